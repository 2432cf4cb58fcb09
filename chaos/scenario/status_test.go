package scenario

import "testing"

func TestAFailedExpectationBeatsAnInvalidOneAndResidueIsNeverHidden(t *testing.T) {
	pass := Result{Verdict: Pass}
	out := Outcome{SteadyBefore: SteadyRecord{Result: pass}, Residue: pass, RecoveryResult: pass,
		Expectations: []ExpectRecord{{Result: Result{Verdict: Invalid}}, {Result: Result{Verdict: Fail}}, {Result: Result{Verdict: Inconclusive}}}}
	if s := StatusOf(out); s != StatusDeviated {
		t.Fatalf("invalid, fail, inconclusive: %s, want deviated", s)
	}
	out.Expectations = out.Expectations[:1]
	if s := StatusOf(out); s != StatusInvalid || out.ResidueLeft() {
		t.Fatalf("invalid alone: %s, residue left %v", s, out.ResidueLeft())
	}
	out.Abort = &AbortRecord{Rule: RuleOperator}
	out.Residue = Result{Verdict: Fail, Message: "residue after rollback: heal cut failed"}
	if s := StatusOf(out); s != StatusAborted || !out.ResidueLeft() {
		t.Fatalf("aborted with residue: %s, residue left %v", s, out.ResidueLeft())
	}
}
