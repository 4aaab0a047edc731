#include "access/identity.h"

#include <gtest/gtest.h>

namespace clinshub::access {
namespace {

TEST(ActorFromSubject, NamesInstitutionsPortalsAndOperators) {
  Actor inst = ActorFromSubject("CN=1312345678,O=Example Hospital,C=JP");
  EXPECT_EQ(inst.kind, ActorKind::kInstitution);
  EXPECT_EQ(inst.id, "1312345678");
  Actor portal = ActorFromSubject("CN=portal:mynaportal,O=clinshub,C=JP");
  EXPECT_EQ(portal.kind, ActorKind::kPortal);
  Actor op = ActorFromSubject("CN=operator:alice,O=clinshub,C=JP");
  EXPECT_EQ(op.kind, ActorKind::kOperator);
  EXPECT_EQ(op.id, "operator:alice");
}

TEST(ActorFromSubject, UnrecognisedSubjectsNameNobody) {
  for (const char* subject : {"", "CN=localhost,O=clinshub", "CN=131234567", "CN=portal:",
                              "O=1312345678", "CN=13123456789"}) {
    EXPECT_EQ(ActorFromSubject(subject).kind, ActorKind::kNone) << subject;
  }
}

}  // namespace
}  // namespace clinshub::access
