#include "publichealth/notifiable_diseases.h"

#include <algorithm>
#include <iterator>

namespace clinshub::publichealth {
namespace {

constexpr uint32_t kBase = kFieldDiagnosisDate | kFieldOnsetDate | kFieldLabMethod;
constexpr uint32_t kRoute = kBase | kFieldInfectionRoute;
constexpr uint32_t kVaccine = kRoute | kFieldVaccination;

// Ordered by category, then code. Every row is one individual-notification disease.
constexpr NotifiableDisease kDiseases[] = {
    // 一類感染症
    {"crimean-congo-hf", "クリミア・コンゴ出血熱", Category::k1, kRoute, "クリミア・コンゴ出血熱", true},
    {"ebola", "エボラ出血熱", Category::k1, kRoute, "エボラ", true},
    {"lassa", "ラッサ熱", Category::k1, kRoute, "ラッサ熱", true},
    {"marburg", "マールブルグ病", Category::k1, kRoute, "マールブルグ", true},
    {"plague", "ペスト", Category::k1, kRoute, "ペスト", true},
    {"smallpox", "痘そう", Category::k1, kVaccine, "痘そう|天然痘", true},
    {"south-american-hf", "南米出血熱", Category::k1, kRoute, "南米出血熱", true},
    // 二類感染症
    {"avian-influenza-h5n1", "鳥インフルエンザ（H5N1）", Category::k2, kRoute, "H5N1", true},
    {"avian-influenza-h7n9", "鳥インフルエンザ（H7N9）", Category::k2, kRoute, "H7N9", true},
    {"diphtheria", "ジフテリア", Category::k2, kVaccine, "ジフテリア", true},
    {"mers", "中東呼吸器症候群", Category::k2, kRoute, "中東呼吸器症候群|MERS", true},
    {"polio", "急性灰白髄炎", Category::k2, kVaccine, "急性灰白髄炎|ポリオ", true},
    {"sars", "重症急性呼吸器症候群", Category::k2, kRoute, "重症急性呼吸器症候群|SARS", true},
    {"tuberculosis", "結核", Category::k2, kFieldDiagnosisDate | kFieldLabMethod, "結核", true},
    // 三類感染症
    {"cholera", "コレラ", Category::k3, kRoute, "コレラ", true},
    {"ehec", "腸管出血性大腸菌感染症", Category::k3, kFieldDiagnosisDate | kFieldLabMethod | kFieldInfectionRoute,
     "腸管出血性大腸菌|O157", true},
    {"paratyphoid", "パラチフス", Category::k3, kRoute, "パラチフス", true},
    {"shigellosis", "細菌性赤痢", Category::k3, kRoute, "細菌性赤痢", true},
    {"typhoid", "腸チフス", Category::k3, kRoute, "腸チフス", true},
    // 四類感染症 (a representative subset of the 44; extend as the law lists them)
    {"anthrax", "炭疽", Category::k4, kRoute, "炭疽", true},
    {"avian-influenza", "鳥インフルエンザ（H5N1及びH7N9を除く）", Category::k4, kRoute,
     "鳥インフルエンザ", true},
    {"botulism", "ボツリヌス症", Category::k4, kRoute, "ボツリヌス", true},
    {"chikungunya", "チクングニア熱", Category::k4, kRoute, "チクングニア", true},
    {"dengue", "デング熱", Category::k4, kRoute, "デング", true},
    {"hepatitis-a", "A型肝炎", Category::k4, kRoute, "A型肝炎", true},
    {"hepatitis-e", "E型肝炎", Category::k4, kRoute, "E型肝炎", true},
    {"japanese-encephalitis", "日本脳炎", Category::k4, kVaccine, "日本脳炎", true},
    {"legionellosis", "レジオネラ症", Category::k4, kRoute, "レジオネラ", true},
    {"malaria", "マラリア", Category::k4, kRoute, "マラリア", true},
    {"mpox", "エムポックス", Category::k4, kRoute, "エムポックス|サル痘", true},
    {"q-fever", "Q熱", Category::k4, kRoute, "Q熱", true},
    {"rabies", "狂犬病", Category::k4, kVaccine, "狂犬病", true},
    {"scrub-typhus", "つつが虫病", Category::k4, kRoute, "つつが虫", true},
    {"sfts", "重症熱性血小板減少症候群", Category::k4, kRoute, "重症熱性血小板減少症候群|SFTS", true},
    {"yellow-fever", "黄熱", Category::k4, kVaccine, "黄熱", true},
    {"zika", "ジカウイルス感染症", Category::k4, kRoute, "ジカ", true},
    // 五類感染症 (全数把握)
    {"aids", "後天性免疫不全症候群", Category::k5, kFieldDiagnosisDate | kFieldLabMethod | kFieldInfectionRoute,
     "後天性免疫不全症候群|エイズ|HIV", false},
    {"amoebiasis", "アメーバ赤痢", Category::k5, kRoute, "アメーバ赤痢", false},
    {"cjd", "クロイツフェルト・ヤコブ病", Category::k5, kBase, "クロイツフェルト・ヤコブ", false},
    {"congenital-rubella", "先天性風しん症候群", Category::k5, kVaccine, "先天性風しん", false},
    {"cre", "カルバペネム耐性腸内細菌目細菌感染症", Category::k5, kRoute, "カルバペネム耐性", false},
    {"invasive-pneumococcal", "侵襲性肺炎球菌感染症", Category::k5, kVaccine, "侵襲性肺炎球菌", false},
    {"measles", "麻しん", Category::k5, kVaccine, "麻しん|麻疹", true},
    {"pertussis", "百日咳", Category::k5, kVaccine, "百日咳", false},
    {"rubella", "風しん", Category::k5, kVaccine, "風しん|風疹", true},
    {"stss", "劇症型溶血性レンサ球菌感染症", Category::k5, kRoute, "劇症型溶血性レンサ球菌", false},
    {"syphilis", "梅毒", Category::k5, kFieldDiagnosisDate | kFieldLabMethod | kFieldInfectionRoute,
     "梅毒", false},
    {"tetanus", "破傷風", Category::k5, kVaccine, "破傷風", false},
    {"viral-hepatitis", "ウイルス性肝炎（E型肝炎及びA型肝炎を除く）", Category::k5,
     kFieldDiagnosisDate | kFieldLabMethod | kFieldInfectionRoute, "B型肝炎|C型肝炎|ウイルス性肝炎", false},
    // 新型インフルエンザ等感染症
    {"novel-influenza", "新型インフルエンザ", Category::kNovelInfluenza, kRoute,
     "新型インフルエンザ", true},
    {"reemerging-influenza", "再興型インフルエンザ", Category::kNovelInfluenza, kRoute,
     "再興型インフルエンザ", true},
    // 指定感染症: none designated at the time of writing; a designation adds a row here.
};

}  // namespace

std::string_view CategoryName(Category c) {
  switch (c) {
    case Category::k1: return "一類感染症";
    case Category::k2: return "二類感染症";
    case Category::k3: return "三類感染症";
    case Category::k4: return "四類感染症";
    case Category::k5: return "五類感染症";
    case Category::kNovelInfluenza: return "新型インフルエンザ等感染症";
    case Category::kDesignated: return "指定感染症";
  }
  return "";
}

std::span<const NotifiableDisease> NotifiableDiseases() { return kDiseases; }

const NotifiableDisease* FindNotifiableDisease(std::string_view code) {
  auto it = std::find_if(std::begin(kDiseases), std::end(kDiseases),
                         [&](const NotifiableDisease& d) { return d.code == code; });
  return it == std::end(kDiseases) ? nullptr : &*it;
}

}  // namespace clinshub::publichealth
