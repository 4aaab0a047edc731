// Breaks an accepted submission into the clinical items (6情報 and 処方) the Store indexes, so
// that a patient's summary is one indexed read instead of a parse of every bundle.
//
// Pure function; thread-safe; no I/O.
#pragma once

#include <vector>

#include "clins/items.h"
#include "clins/submission.h"
#include "common/result.h"
#include "fhir/value.h"

namespace clinshub::clins {

// One Item per clinical entry of `bundle`, in bundle order. `facts` must be what
// ValidateSubmission returned for this same bundle: only facts.item_entries are read.
//
// - 6-information bundles: every Condition (kCondition), AllergyIntolerance (kAllergy, or
//   kDrugContraindication when category contains "medication") and Observation (kInfection
//   when its CLINS coding is a designated-infection JLAC10/JLAC11 system, else kLabResult).
// - Documents: only MedicationRequest entries (kPrescription). Conditions, allergies and
//   observations carried inside a letter or summary are copies of what the institution
//   registers through its own 6-information submissions (or checkup findings, which are not
//   6情報 at all); registering them again would show the patient each item twice, and a
//   withdrawn letter would take items with it. Attachments (a 退院時サマリー in section 210)
//   stay opaque: their content is the document, not items.
//
// Errors: kUnprocessable when an entry's clinical date is present but not a FHIR dateTime
// (the validator does not check date syntax, and an unparseable date would sort nowhere);
// kInternal when `facts` does not describe `bundle` (an index out of range or not a resource).
Result<std::vector<Item>> ExtractItems(const fhir::Value& bundle, const SubmissionFacts& facts);

}  // namespace clinshub::clins
