package main

import "testing"

func TestParseProcStat(t *testing.T) {
	// A real line's shape, with a command name holding a space and a parenthesis.
	line := "4242 (nginx: w) rk)) S 4240 4240 4240 0 -1 4194624 1020 0 0 0 731 269 17 3 20 0 1 0 12345 0 0\n"
	pg, ticks, ok := parseProcStat(line)
	if !ok || pg != 4240 || ticks != 731+269+17+3 {
		t.Fatalf("parseProcStat = group %d, %d ticks, %v; want 4240, 1020, true", pg, ticks, ok)
	}
	for _, bad := range []string{"", "4242 nginx S 1", "4242 (nginx) S 4240 x 4240 0 -1 0 0 0 0 0 1 2 3 4",
		"4242 (nginx) S 4240 4240 4240 0 -1 0 0 0 0 0 1 2 x 4", "4242 (nginx) S 4240 4240 4240 0 -1 0 0 0 0 0 1 2"} {
		if _, _, ok := parseProcStat(bad); ok {
			t.Errorf("parseProcStat(%q) accepted a malformed line", bad)
		}
	}
}
