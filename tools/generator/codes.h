// Hand-written vocabularies for synthetic data. Names, places and disease management numbers
// are our own inventions in the style of the real lists; lab and allergen codes are code
// values from the designated CLINS lists and J-FAGY (facts, not copied files). They are to be
// replaced by src/clins's derived tables once those exist.
#pragma once

#include <string_view>

namespace clinshub::generator::codes {

struct NamePair { std::string_view kanji, kana; };

inline constexpr NamePair kSurnames[] = {
    {"佐藤", "サトウ"}, {"鈴木", "スズキ"}, {"高橋", "タカハシ"}, {"田中", "タナカ"},
    {"伊藤", "イトウ"}, {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
    {"小林", "コバヤシ"}, {"加藤", "カトウ"}, {"吉田", "ヨシダ"}, {"山田", "ヤマダ"},
    {"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"}, {"井上", "イノウエ"},
    {"木村", "キムラ"}, {"林", "ハヤシ"}, {"斎藤", "サイトウ"}, {"清水", "シミズ"},
    {"山崎", "ヤマザキ"}, {"森", "モリ"}, {"池田", "イケダ"}, {"橋本", "ハシモト"},
};
inline constexpr NamePair kMaleGiven[] = {
    {"太郎", "タロウ"}, {"健一", "ケンイチ"}, {"大輔", "ダイスケ"}, {"翔太", "ショウタ"},
    {"誠", "マコト"}, {"浩二", "コウジ"}, {"拓也", "タクヤ"}, {"和夫", "カズオ"},
    {"蓮", "レン"}, {"悠真", "ユウマ"}, {"隆", "タカシ"}, {"茂", "シゲル"},
};
inline constexpr NamePair kFemaleGiven[] = {
    {"花子", "ハナコ"}, {"陽子", "ヨウコ"}, {"美咲", "ミサキ"}, {"恵子", "ケイコ"},
    {"由美", "ユミ"}, {"結衣", "ユイ"}, {"幸子", "サチコ"}, {"真由美", "マユミ"},
    {"陽菜", "ヒナ"}, {"和子", "カズコ"}, {"さくら", "サクラ"}, {"智子", "トモコ"},
};

struct Place {
  std::string_view pref_code;  // 都道府県番号, 2 digits
  std::string_view prefecture, city, area_code, postcode_prefix;
};
inline constexpr Place kPlaces[] = {
    {"01", "北海道", "札幌市中央区", "011", "060"}, {"04", "宮城県", "仙台市青葉区", "022", "980"},
    {"13", "東京都", "文京区", "03", "113"},        {"13", "東京都", "世田谷区", "03", "154"},
    {"14", "神奈川県", "横浜市港北区", "045", "222"}, {"23", "愛知県", "名古屋市中区", "052", "460"},
    {"26", "京都府", "京都市左京区", "075", "606"}, {"27", "大阪府", "大阪市北区", "06", "530"},
    {"34", "広島県", "広島市中区", "082", "730"},   {"39", "高知県", "高知市", "088", "780"},
    {"40", "福岡県", "福岡市博多区", "092", "812"}, {"47", "沖縄県", "那覇市", "098", "900"},
};
inline constexpr std::string_view kTownNames[] = {"本町", "中央", "緑が丘", "桜台", "若葉",
                                                  "旭町", "栄町", "東町", "西町", "南町"};

inline constexpr NamePair kHospitalStems[] = {
    {"中央", "チュウオウ"}, {"さくら", "サクラ"}, {"みなみ", "ミナミ"}, {"市民", "シミン"},
    {"赤十字", "セキジュウジ"}, {"大学附属", "ダイガクフゾク"}, {"協同", "キョウドウ"},
    {"ひかり", "ヒカリ"}, {"東邦", "トウホウ"}, {"あおば", "アオバ"},
};

// SS-MIX2 clinical department codes (http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment).
struct Department { std::string_view code, display; };
inline constexpr Department kDepartments[] = {
    {"01", "内科"}, {"08", "循環器科"}, {"13", "外科"}, {"22", "整形外科"},
    {"09", "小児科"}, {"31", "皮膚科"}, {"26", "眼科"}, {"05", "消化器科"},
};

// Disease names with self-made 8-digit numbers in the style of MEDIS 病名管理番号.
struct Disease { std::string_view code, name; };
inline constexpr Disease kDiseases[] = {
    {"20061501", "高血圧症"},        {"20062304", "2型糖尿病"},      {"20063112", "脂質異常症"},
    {"20064049", "十二指腸潰瘍"},    {"20065203", "気管支喘息"},     {"20066110", "逆流性食道炎"},
    {"20067021", "慢性腎臓病"},      {"20068134", "狭心症"},         {"20069007", "骨粗鬆症"},
    {"20070216", "アトピー性皮膚炎"}, {"20071038", "急性上気道炎"},   {"20072145", "腰部脊柱管狭窄症"},
    {"20073062", "白内障"},          {"20074119", "心房細動"},       {"20075027", "胃癌"},
    {"20076201", "肺炎"},            {"20077013", "変形性膝関節症"}, {"20078122", "不眠症"},
};
inline constexpr std::string_view kUncodedDiseases[] = {
    "右足関節捻挫後の疼痛", "原因不明の微熱", "左肩の違和感", "食後の胸やけ"};

// J-FAGY allergens (code values from the J-FAGY master).
struct Allergen { std::string_view code, name; };
inline constexpr Allergen kFoodAllergens[] = {
    {"J9FA19140000", "そば"},    {"J9FA21180000", "落花生"}, {"J9FA32540000", "キウイフルーツ"},
    {"J9FB12110011", "牛乳"},    {"J9FB13110000", "鶏卵"},   {"J9FC11310000", "さば"},
    {"J9FC15110000", "えび"},    {"J9FC15120000", "かに"},   {"J9FA15000000", "小麦"},
};
inline constexpr Allergen kNonFoodAllergens[] = {
    {"J9NJ12150000", "ネコ"}, {"J9NK13320000", "スギ"}, {"J9NJ12150012", "ネコ皮屑"}};
inline constexpr std::string_view kFoodDummyCode = "D9F000000000";
inline constexpr std::string_view kDummyFoodTexts[] = {"自家製の漬物", "特定の健康食品"};

// Drugs with YJ codes (12 characters): used for 薬剤禁忌 and prescriptions.
struct Drug { std::string_view yj, name, unit_code, unit; };
inline constexpr Drug kDrugs[] = {
    {"1149019F1560", "ロキソプロフェンナトリウム錠６０ｍｇ", "TAB", "錠"},
    {"6131001M2094", "アモキシシリンカプセル２５０ｍｇ", "CAP", "カプセル"},
    {"2149039F1020", "アムロジピン錠５ｍｇ", "TAB", "錠"},
    {"3969007F1021", "メトホルミン塩酸塩錠２５０ｍｇ", "TAB", "錠"},
    {"2189015F1020", "ロスバスタチン錠２．５ｍｇ", "TAB", "錠"},
    {"2325003F1024", "ファモチジン錠２０ｍｇ", "TAB", "錠"},
    {"1124017F1021", "ゾルピデム酒石酸塩錠５ｍｇ", "TAB", "錠"},
    {"6132005M1053", "セファクロルカプセル２５０ｍｇ", "CAP", "カプセル"},
};

// Designated lab items: local code, CLINS JLAC10 code, name, UCUM unit, reference range and
// a typical value range, all as integers scaled by 10^decimals so values print exactly.
struct LabItem {
  std::string_view local_code, jlac10, name, unit, specimen_code, specimen;
  int decimals, low, high, min, max;
};
inline constexpr LabItem kLabItems[] = {
    {"L0001", "3A015000002329101", "アルブミン", "g/dL", "023", "血清", 1, 38, 52, 28, 55},
    {"L0002", "3B035000002327201", "AST(GOT)", "U/L", "023", "血清", 0, 13, 30, 8, 120},
    {"L0003", "3B045000002327201", "ALT(GPT)", "U/L", "023", "血清", 0, 7, 23, 5, 150},
    {"L0004", "3C015000002329101", "クレアチニン", "mg/dL", "023", "血清", 2, 46, 79, 40, 250},
    {"L0005", "3H015000002327201", "カリウム", "mmol/L", "023", "血清", 1, 36, 48, 30, 58},
    {"L0006", "3H010000002327101", "ナトリウム", "mmol/L", "023", "血清", 0, 138, 145, 128, 150},
    {"L0007", "3D046000001921002", "HbA1c(NGSP)", "%", "019", "全血", 1, 49, 60, 45, 110},
    {"L0008", "3F077000002327101", "LDL-コレステロール", "mg/dL", "023", "血清", 0, 65, 139, 50, 220},
    {"L0009", "3F070000002327101", "HDL-コレステロール", "mg/dL", "023", "血清", 0, 40, 90, 25, 110},
    {"L0010", "3F015000002327101", "中性脂肪", "mg/dL", "023", "血清", 0, 30, 149, 30, 500},
    {"L0011", "2A030000001930901", "ヘモグロビン", "g/dL", "019", "全血", 1, 116, 148, 70, 180},
    {"L0012", "2A990000001930952", "白血球数", "10*3/uL", "019", "全血", 1, 33, 86, 20, 180},
    {"L0013", "3C025000002329101", "尿素窒素", "mg/dL", "023", "血清", 0, 8, 20, 5, 80},
    {"L0014", "3C020000002329101", "尿酸", "mg/dL", "023", "血清", 1, 26, 70, 20, 100},
};
// Local-only items, not on the designated list: sent with the local coding alone.
inline constexpr LabItem kLocalOnlyItems[] = {
    {"L9001", "", "フェリチン", "ng/mL", "023", "血清", 0, 12, 60, 5, 400},
    {"L9002", "", "血清鉄", "ug/dL", "023", "血清", 0, 40, 188, 20, 220},
};

// Designated infection items (qualitative results).
struct InfectionItem { std::string_view local_code, jlac10, name; };
inline constexpr InfectionItem kInfectionItems[] = {
    {"K0001", "5E074135102311711", "梅毒STS(定性)"},
    {"K0002", "5E075135101819011", "梅毒TP抗体(定性)"},
    {"K0003", "5F016141001819011", "HBs抗原(判定)"},
    {"K0004", "5F360148202302311", "HCV抗体(判定)"},
    {"K0005", "5F500143002311711", "HIV-1抗体(判定)"},
};

// 特定健診 result items (JLAC10 17-digit in urn:oid:1.2.392.200119.6.1005).
struct CheckupItem { std::string_view code, name, unit, ucum; int decimals, min, max; };
inline constexpr CheckupItem kCheckupItems[] = {
    {"9N001000000000001", "身長", "cm", "cm", 1, 1450, 1850},
    {"9N006000000000001", "体重", "kg", "kg", 1, 400, 950},
    {"9N016160100000001", "腹囲", "cm", "cm", 1, 650, 1050},
    {"9A751000000000001", "収縮期血圧（１回目）", "mmHg", "mm[Hg]", 0, 100, 170},
    {"9A761000000000001", "拡張期血圧（１回目）", "mmHg", "mm[Hg]", 0, 55, 105},
    {"3F015000002327101", "空腹時中性脂肪", "mg/dl", "mg/dL", 0, 40, 300},
    {"3F070000002327101", "ＨＤＬコレステロール", "mg/dl", "mg/dL", 0, 30, 100},
    {"3F077000002327101", "ＬＤＬコレステロール", "mg/dl", "mg/dL", 0, 60, 200},
    {"3B035000002327201", "ＡＳＴ（ＧＯＴ）", "U/l", "U/L", 0, 10, 60},
    {"3B045000002327201", "ＡＬＴ（ＧＰＴ）", "U/l", "U/L", 0, 5, 80},
    {"3D046000001906202", "ＨｂＡ１ｃ（ＮＧＳＰ）", "%", "%", 1, 48, 90},
};

}  // namespace clinshub::generator::codes
