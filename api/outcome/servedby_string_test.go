package outcome

import "testing"

// TestServedByString pins the header's exact spelling: keys in a fixed order, empty ones left
// out, "; " between them, and nothing at all for the zero value.
func TestServedByString(t *testing.T) {
	for _, c := range []struct {
		sb   ServedBy
		want string
	}{
		{ServedBy{}, ""},
		{ServedBy{Worker: "w1"}, "worker=w1"},
		{ServedBy{Region: "eu", Pool: "a", Deployment: "d", Worker: "w"}, "region=eu; pool=a; deployment=d; worker=w"},
		{ServedBy{Region: "us", Provider: "p", Deployment: "x"}, "region=us; provider=p; deployment=x"},
	} {
		if got := c.sb.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.sb, got, c.want)
		}
	}
}
