// The notifiable diseases (届出対象感染症) of 感染症法 (the Infectious Diseases Control Law):
// categories 1–4, the category-5 diseases every doctor notifies individually (全数把握), and
// the novel-influenza and designated classes. Project data, written from the law's lists; the
// codes are ours (system kNotifiableDiseaseSystem). Sentinel-surveillance (定点把握) category-5
// diseases are reported in aggregate by sentinel sites, not as individual notifications, so
// they are not here.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace clinshub::publichealth {

inline constexpr char kNotifiableDiseaseSystem[] =
    "http://clinshub.example/fhir/CodeSystem/notifiable-disease";

enum class Category : int {
  k1 = 1,       // 一類感染症
  k2 = 2,       // 二類感染症
  k3 = 3,       // 三類感染症
  k4 = 4,       // 四類感染症
  k5 = 5,       // 五類感染症 (全数把握)
  kNovelInfluenza = 6,  // 新型インフルエンザ等感染症
  kDesignated = 7,      // 指定感染症
};
std::string_view CategoryName(Category c);  // "一類感染症", ...

// Fields a notification of the disease must carry, as bits.
enum RequiredField : uint32_t {
  kFieldDiagnosisDate = 1u << 0,  // 診断年月日
  kFieldOnsetDate = 1u << 1,      // 発病年月日 (asymptomatic carriers: not required)
  kFieldLabMethod = 1u << 2,      // 診断方法 (検査方法と結果)
  kFieldInfectionRoute = 1u << 3, // 感染原因・感染経路・感染地域
  kFieldVaccination = 1u << 4,    // 予防接種歴
  kFieldDeathDate = 1u << 5,      // 死亡年月日 (only when the patient died: never required)
};

struct NotifiableDisease {
  std::string_view code;      // ours, e.g. "measles"
  std::string_view name;      // 麻しん
  Category category;
  uint32_t required;          // RequiredField bits beyond patient, physician, institution
  // Words that name the disease in a condition's code.text, for the draft's pre-filling.
  std::string_view keywords;  // '|'-separated
  // Deadline: "immediately" (直ちに) or "7 days" (7日以内).
  bool immediate;
};

std::span<const NotifiableDisease> NotifiableDiseases();
// nullptr if the code is not notifiable.
const NotifiableDisease* FindNotifiableDisease(std::string_view code);

}  // namespace clinshub::publichealth
