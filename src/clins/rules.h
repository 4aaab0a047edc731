// The rule table: every check the submission validator makes, with the JP-CLINS IG rule id
// where the IG has one (see shared/clins/ig-fsh/RULES-INDEX.md), the FHIR issue type, and a
// short message in English and Japanese written for clinshub (the IG's own wording is CC BY-ND
// and is not copied). `key` is clinshub's stable name for the check; it prefixes messages so
// clients can tell checks without an IG id apart.
#pragma once

#include <string_view>

namespace clinshub::clins {

struct Rule {
  std::string_view key;
  std::string_view id;    // IG rule id, or empty
  std::string_view code;  // FHIR IssueType
  std::string_view en;
  std::string_view ja;
};

namespace rules {
// Bundle level.
inline constexpr Rule kNotBundle{"bundle-resource", "", "structure", "the submission must be a Bundle", "Bundleリソースで送信すること"};
inline constexpr Rule kNotSubmissionType{"bundle-not-submission-type", "", "not-supported", "this bundle profile is not a submission type of the service (accepted: JP_Bundle_CLINS, JP_Bundle_eReferral, JP_Bundle_eDischargeSummary, JP_Bundle_eCheckupGeneral)", "本サービスの登録対象の文書・情報ではない"};
inline constexpr Rule kLegacyProfile{"bundle-legacy-profile", "R0213", "invariant", "the bundle declares a pre-CLINS profile URL; use the JP-CLINS profile (http://jpfhir.jp/fhir/clins/StructureDefinition/…)", "旧版のプロファイルは受け付けない。JP-CLINSのプロファイルを指定すること"};
inline constexpr Rule kBundleProfile{"bundle-profile", "R0213", "invariant", "Bundle.meta.profile must name a JP-CLINS submission profile", "Bundle.meta.profileにJP-CLINSのプロファイルを指定すること"};
inline constexpr Rule kBundleType{"bundle-type", "", "value", "Bundle.type does not fit the profile (collection for the 6 information, document for documents)", "Bundle.typeがプロファイルに合わない（6情報はcollection、文書はdocument）"};
inline constexpr Rule kBundleTimestamp{"bundle-timestamp", "", "required", "a document bundle needs Bundle.timestamp", "文書BundleにはBundle.timestampが必要"};
inline constexpr Rule kTagExists{"bundle-meta-tag-resourceType-exists", "R02141", "invariant", "Bundle.meta.tag must name the resource type carried (BundleResourceType_CS)", "Bundle.meta.tagに収納するリソース種別を記述すること"};
inline constexpr Rule kTagValid{"bundle-meta-tag-resourceType-valid", "R02142", "invariant", "the BundleResourceType_CS tag must be exactly one of Condition, AllergyIntolerance, Observation", "リソース種別タグはCondition、AllergyIntolerance、Observationのいずれか一つであること"};
inline constexpr Rule kTagHasEntries{"mustHaveOneMoreResources-with-designatedResourceType", "R02143", "invariant", "the bundle must contain at least one resource of the tagged type", "タグで指定した種別のリソースを一つ以上含めること"};
inline constexpr Rule kEntryTypeMismatch{"bundle-one-resource-type", "", "invariant", "a 6-information bundle carries only the Patient and resources of the tagged type", "6情報のBundleには患者と指定種別のリソースだけを含めること"};
inline constexpr Rule kIdentifierSystem{"valid-system-bundleIdenfifier", "R02151", "invariant", "Bundle.identifier.system must be http://jpfhir.jp/fhir/clins/bundle-identifier", "Bundle.identifier.systemはhttp://jpfhir.jp/fhir/clins/bundle-identifierであること"};
inline constexpr Rule kIdentifierValue{"valid-value-bundleIdenfifier", "R02152", "invariant", "Bundle.identifier.value must be 医療機関コード(10)^西暦(4)^ID (1-36 of A-Z a-z 0-9 -)", "Bundle.identifier.valueは医療機関番号10桁^西暦4桁^36文字以内の英数字・ハイフンであること"};
inline constexpr Rule kNoEntries{"bundle-entries", "", "required", "the bundle has no entries", "entryがない"};
inline constexpr Rule kFullUrl{"bundle-fullurl-uuid", "", "value", "entry.fullUrl must be urn:uuid: followed by a lower-case UUID", "fullUrlはurn:uuid:形式のUUIDであること"};
inline constexpr Rule kFullUrlUnique{"bundle-fullurl-unique", "", "business-rule", "entry.fullUrl must be unique within the bundle", "fullUrlがBundle内で重複している"};
inline constexpr Rule kEntryResource{"bundle-entry-resource", "", "required", "every entry needs a resource with a resourceType", "entryにはresourceが必要"};
inline constexpr Rule kReferenceTarget{"reference-target", "", "business-rule", "entries may reference only the Patient (by fullUrl); other resources go in contained and are referenced as #id", "Patient以外への参照はcontainedに含め#idで参照すること"};
inline constexpr Rule kDocReferenceTarget{"document-reference-resolves", "", "business-rule", "a reference in a document must resolve to an entry fullUrl or a contained #id", "文書内の参照はentryのfullUrlまたはcontainedの#idに解決できること"};
inline constexpr Rule kContainedUnresolved{"contained-reference-resolves", "", "business-rule", "a #id reference must name a contained resource of the same entry", "#id参照は同じリソースのcontainedに解決できること"};
inline constexpr Rule kSubjectIsPatient{"subject-is-patient", "", "business-rule", "the subject/patient must reference the bundle's Patient by its fullUrl", "subject/patientはBundle内のPatientをfullUrlで参照すること"};
inline constexpr Rule kSenderMismatch{"institution-is-sender", "", "business-rule", "the institution number differs from the sending institution", "医療機関番号が送信元医療機関と一致しない"};
inline constexpr Rule kInstitutionMismatch{"institution-consistent", "", "business-rule", "the institution number differs from the one in Bundle.identifier", "医療機関番号がBundle.identifierの医療機関番号と一致しない"};
inline constexpr Rule kEntryProfile{"validEntryProfile", "", "invariant", "the resource must declare the JP-CLINS eCS profile for its type in meta.profile", "リソースのmeta.profileにeCSプロファイルを指定すること"};

// Patient.
inline constexpr Rule kFirstEntryPatient{"first-bundle-entry-is-Patient", "R0211", "invariant", "the first entry must be the Patient", "最初のentryはPatientであること"};
inline constexpr Rule kPatientProfile{"patients-profile-is-JP-Patient-eCS", "R0212", "invariant", "the Patient must declare JP_Patient_eCS in meta.profile", "PatientはJP_Patient_eCSプロファイルに準拠すること"};
inline constexpr Rule kPatientMissing{"document-patient", "", "required", "the document must contain exactly one Patient, referenced by Composition.subject", "文書には患者（Patient）が一つだけ必要"};
inline constexpr Rule kMemberIdCount{"valid-system-insurance-patientIdentifier", "R1012", "invariant", "Patient.identifier needs exactly one insurance member id (JP_Insurance_memberID) or one public-payer id (JP_PublicPayer_memberID), not both", "被保険者個人識別子または公費受給者識別子のどちらか一つだけが必要"};
inline constexpr Rule kInsuranceIdValue{"valid-value-insurance-patientIdentifier", "R1013", "invariant", "insurance member id must be 保険者番号(8 digits):記号:番号:枝番(2 digits or empty)", "被保険者個人識別子は保険者番号8桁:記号:番号:枝番2桁（または空）の形式であること"};
inline constexpr Rule kPublicPayerIdValue{"valid-value-publicPayer-patientIdentifier", "R1013", "invariant", "public-payer id must be 公費負担者番号(8 digits)::受給者番号(7):", "公費受給者識別子は公費負担者番号8桁::受給者番号7桁:の形式であること"};
inline constexpr Rule kNameSpace{"kanjiName-kanaName-donot-contain-ZenkakuKuuhaku", "R1113", "invariant", "patient names must not contain a full-width space (use none or a half-width space)", "患者氏名に全角空白を含めてはならない"};

// Institution number extension.
inline constexpr Rule kInstitutionMissing{"all-entries-needs-extension-of-institutionNumber", "R9011", "invariant", "every resource except the Patient needs the JP_eCS_InstitutionNumber extension", "Patient以外のリソースには医療機関番号拡張が必要"};
inline constexpr Rule kInstitutionValue{"valid-value-institutionNumber", "R1021", "invariant", "JP_eCS_InstitutionNumber must be exactly 10 digits: 都道府県(2) + 点数表(1-3) + 7 digits", "医療機関番号は都道府県2桁、点数表1桁(1-3)、7桁の計10桁であること"};

// Flags.
inline constexpr Rule kFlagCode{"meta-tag-code-LTS-restriction", "R70010", "code-invalid", "this JP_ehrshrs_indication flag is not allowed on this resource (UNINFORMED/UNDELIVERED: Condition only; LTS: Condition, AllergyIntolerance, designated-infection Observation)", "このリソースには指定できないフラグである"};
inline constexpr Rule kLtsInfectionOnly{"check-LTS-MemberOf-infectionLabo", "R6031", "invariant", "the LTS flag is allowed on an Observation only for a designated infection item", "LTS長期保存フラグは指定感染症の検査結果にのみ指定できる"};

// Condition.
inline constexpr Rule kConditionMedis{"condition-medis-code", "", "required", "Condition.code.coding needs one MEDIS 病名管理番号 (system http://medis.or.jp/CodeSystem/master-disease-keyNumber, 8 digits, 99999999 when uncoded)", "MEDIS病名管理番号（未コード化は99999999）が必要"};
inline constexpr Rule kCodeText{"code-text", "", "required", "code.text is required (the name as entered)", "code.textは必須"};
inline constexpr Rule kConditionOnset{"condition-needs-onsetDateTime", "R9015C", "invariant", "every Condition needs onsetDateTime (the IG's description labels this R9013C)", "ConditionにはonsetDateTimeが必要"};
inline constexpr Rule kConditionEncounterContained{"condition-needs-contained-of-Encounter", "R9013C", "invariant", "every Condition needs a contained JP_Encounter", "Conditionにはcontainedの受診情報（JP_Encounter）が必要"};
inline constexpr Rule kConditionDepartment{"condition-needs-extension-of-Department", "R9014C", "invariant", "every Condition needs the JP_eCS_Department extension", "Conditionには診療科拡張が必要"};
inline constexpr Rule kConditionEncounter{"condition-needs-encounter", "R9016C", "invariant", "every Condition needs Condition.encounter", "Conditionにはencounterが必要"};
inline constexpr Rule kConditionCategory{"condition-category", "", "value", "Condition.category must be one coding of condition-category (encounter-diagnosis for the service)", "categoryはcondition-categoryのencounter-diagnosisとすること"};
inline constexpr Rule kConditionVerification{"condition-verification", "", "value", "Condition.verificationStatus is required: confirmed, or unconfirmed for a suspected diagnosis (疑い)", "verificationStatusは必須（確定はconfirmed、疑いはunconfirmed）"};
inline constexpr Rule kConditionClinical{"condition-clinical-status", "", "value", "Condition.clinicalStatus must be a condition-clinical code, and inactive/remission/resolved when abatement is given", "clinicalStatusはcondition-clinicalのコード、転帰日があればinactive/remission/resolvedとすること"};

// AllergyIntolerance.
inline constexpr Rule kAllergyCode{"allergy-jfagy-code", "", "code-invalid", "AllergyIntolerance.code needs a J-FAGY coding (food J9F…, non-food J9N…, medication YCM/GCM + YJ code, or a dummy code)", "J-FAGYのアレルゲンコード（ダミーコードを含む）が必要"};
inline constexpr Rule kAllergyUnknownCode{"allergy-jfagy-known", "", "code-invalid", "the allergen code is not in the J-FAGY master", "J-FAGYマスターにないアレルゲンコード"};
inline constexpr Rule kAllergyRetiredCode{"allergy-jfagy-current", "", "code-invalid", "the allergen code was retired from the J-FAGY master", "J-FAGYマスターで廃止されたアレルゲンコード"};
inline constexpr Rule kAllergyDummyText{"allergy-dummy-needs-text", "", "required", "a dummy allergen code (D9F/D9N/D9M) needs code.text naming the allergen", "ダミーコードを使う場合はcode.textにアレルゲン名を記載すること"};
inline constexpr Rule kAllergyClinical{"allergy-clinical-status", "", "required", "AllergyIntolerance.clinicalStatus is required (active, inactive, resolved)", "clinicalStatusは必須"};
inline constexpr Rule kAllergyCategory{"allergy-category", "", "value", "AllergyIntolerance.category is required (food, medication, environment, biologic) and must fit the code system (medication ⇔ YCM/GCM)", "categoryは必須で、コード体系と整合すること（医薬品コードはmedication）"};

// Observation.
inline constexpr Rule kObsLocalCode{"needs-localCode-observation-laboresult", "R6021", "invariant", "Observation.code.coding needs a local code (JP_CLINS_ObsLabResult_LocalCode_CS)", "検査結果にはローカルコードの記述が必須"};
inline constexpr Rule kObsClinsCode{"observation-clins-code", "", "code-invalid", "the code is not on the designated list of its CLINS code system", "CLINSコード体系の指定リストにないコード"};
inline constexpr Rule kObsEffective{"observation-effective", "", "required", "Observation.effectiveDateTime is required", "effectiveDateTimeは必須"};
inline constexpr Rule kObsValue{"observation-value-or-absent-reason", "", "invariant", "an Observation needs exactly one of value[x] and dataAbsentReason", "value[x]とdataAbsentReasonのどちらか一方が必要"};
inline constexpr Rule kObsHasMember{"observation-has-no-hasMember", "R6081", "invariant", "hasMember is not allowed in a 6-information submission", "6情報の送信ではhasMemberを使用できない"};
inline constexpr Rule kObsStatus{"observation-status", "", "value", "Observation.status must be registered, preliminary, final, amended, corrected or cancelled", "statusの値が不正"};
inline constexpr Rule kObsCategory{"observation-category", "", "required", "Observation.category must include laboratory", "categoryにlaboratoryが必要"};
inline constexpr Rule kObsEncounterContained{"observation-needs-contained-of-Encounter", "R9013O", "invariant", "every Observation needs a contained JP_Encounter", "Observationにはcontainedの受診情報（JP_Encounter）が必要"};
inline constexpr Rule kObsDepartment{"observation-needs-extension-of-Department", "R9014O", "invariant", "every Observation needs the JP_eCS_Department extension", "Observationには診療科拡張が必要"};
inline constexpr Rule kObsEncounter{"observation-needs-encounter", "R9016O", "invariant", "every Observation needs Observation.encounter", "Observationにはencounterが必要"};
inline constexpr Rule kObsPerformer{"observation-needs-performer", "R9017O", "invariant", "every Observation needs performer", "Observationにはperformerが必要"};
inline constexpr Rule kObsPractitionerContained{"observation-needs-contained-of-Practitioner", "R9019O", "invariant", "an Observation should contain its JP_Practitioner", "Observationにはcontainedの医療者情報が望ましい"};

// MedicationRequest.
inline constexpr Rule kMedYj{"needs-anyOf-YJ-medicationCode", "R3011", "invariant", "medicationCodeableConcept needs exactly one YJ code and no 'uncoded' coding", "医薬品コードにはYJコードが必須（コードなし表記は不可）"};
inline constexpr Rule kMedUsage{"validUsage-MedicationUsage-codesystem", "R5020", "invariant", "dosageInstruction.timing.code needs an MHLW usage code or the uncoded usage code", "用法は厚労省用法コードかダミー用法コードのどちらか一方で記述すること"};
inline constexpr Rule kMedUsageBoth{"invalidUsage-MedicationUsage-codesystem", "R5021", "invariant", "MHLW usage code and the uncoded usage code must not both be given", "厚労省用法コードとダミー用法コードを同時に使用してはならない"};
inline constexpr Rule kMedRequired{"medicationrequest-required", "", "required", "MedicationRequest element required by JP_MedicationRequest_eCS is missing", "JP_MedicationRequest_eCSの必須要素がない"};

// Documents.
inline constexpr Rule kCompositionFirst{"document-composition-first", "", "invariant", "the first entry of a document must be its Composition", "文書Bundleの最初のentryはCompositionであること"};
inline constexpr Rule kCompositionProfile{"document-composition-profile", "", "invariant", "Composition.meta.profile must name the document's Composition profile", "Compositionのプロファイルが文書種別と合わない"};
inline constexpr Rule kCompositionType{"document-type-code", "", "value", "Composition.type must be the doc-typecodes code of the document (57133-1, 18842-5, 53576-5)", "Composition.typeの文書区分コードが不正"};
inline constexpr Rule kCompositionRequired{"document-composition-required", "", "required", "Composition element required by the document profile is missing", "Compositionの必須要素がない"};
inline constexpr Rule kSectionRequired{"document-section-required", "", "required", "a section required by the document profile is missing", "必須のセクションがない"};
inline constexpr Rule kCdaXorStructured{"checkExist-CDASection-or-CompositionSection", "", "invariant", "exactly one of the CDA section (200) and the structured section (300) is required", "CDA参照セクション(200)と構造情報セクション(300)のどちらか一方が必要"};
inline constexpr Rule kAddressee{"referral-addressee", "", "required", "section 910 must reference an Organization with a valid 10-digit institution number (insurance-medical-institution-no)", "紹介先情報セクションには10桁の医療機関番号を持つ紹介先医療機関が必要"};
inline constexpr Rule kPdfOnly{"referral-not-pdf-only", "", "business-rule", "a referral letter whose only content is a PDF is not accepted", "PDFのみの診療情報提供書は受け付けない"};
inline constexpr Rule kDischargeDates{"discharge-admission-dates", "", "required", "a discharge summary needs the admission and discharge dates (Composition.event.period.start/end)", "退院時サマリーには入院日と退院日が必要"};
inline constexpr Rule kSubmissionTooLarge{"submission-size", "", "too-long", "the submission exceeds 10 MB", "送信データが10MBを超えている"};
}  // namespace rules

}  // namespace clinshub::clins
