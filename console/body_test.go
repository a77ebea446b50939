package console_test

// body_test.go: an action's body must be one JSON value within the body
// limit; a valid request padded past the limit, or followed by more data,
// is refused and not carried out.

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/console"
)

func TestActionBodyMustBeOneValueWithinTheLimit(t *testing.T) {
	e := start(t, console.Config{})
	post := func(body string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", e.base+"/api/flatten", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokManager)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r.StatusCode
	}
	cases := []struct {
		name string
		body string
		want int
	}{
		{"padded past the limit", `{"account":""}` + strings.Repeat(" ", 64<<10), http.StatusRequestEntityTooLarge},
		{"a second value", `{"account":""}{"account":""}`, http.StatusBadRequest},
		{"trailing garbage", `{"account":""} x`, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := post(c.body); got != c.want {
				t.Fatalf("status %d, want %d", got, c.want)
			}
			if st := e.status(tokViewer); st.State == "halted" || st.State == "halting" {
				t.Fatalf("a refused body was carried out: the desk is %s", st.State)
			}
		})
	}
	// The same request, well formed, is carried out (the cases above can fail).
	if got := post(`{"account":""}` + "\n"); got != http.StatusOK {
		t.Fatalf("well-formed flatten: %d", got)
	}
	if st := e.status(tokViewer); st.State != "halted" {
		t.Fatalf("well-formed flatten left the desk %s", st.State)
	}
}
