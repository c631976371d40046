package lafscmd

import "regexp"

var (
	capRE  = regexp.MustCompile(`URI:[A-Z0-9-]+:[a-z0-9:]+`)
	timeRE = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+Z"|\d{10}\.\d+`)
)

// maskRE replaces caps and times, which differ from run to run.
func maskRE(s string) string {
	s = capRE.ReplaceAllStringFunc(s, func(c string) string { return c[:len("URI:")] + "..." })
	return timeRE.ReplaceAllString(s, "TIME")
}
