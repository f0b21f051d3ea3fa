package config

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"time"
)

// ErrTimespan is returned by ParseTimespan for text Locust's parse_timespan rejects.
var ErrTimespan = errors.New("Valid --run-time formats are: 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.")

var (
	digitsRe   = regexp.MustCompile(`^\d+$`)
	timespanRe = regexp.MustCompile(`^(?:(\d+?)h)?(?:(\d+?)m)?(?:(\d+?)s)?`)
)

// maxTimespanSeconds bounds parsed spans so they fit a time.Duration.
const maxTimespanSeconds = int64(math.MaxInt64 / int64(time.Second))

// ParseTimespan parses a duration with Locust 2.12's grammar (util/timespan.py):
// pure digits are seconds; otherwise "XhYmZs" components in that order, each
// optional, matched at the start of the text only (trailing text is ignored, so
// "10ms" is ten minutes and "5s3m" is five seconds). The result is whole seconds.
// Zero means "no limit" to the caller, as in Locust.
func ParseTimespan(s string) (time.Duration, error) {
	if s == "" {
		return 0, ErrTimespan
	}
	if digitsRe.MatchString(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxTimespanSeconds {
			return 0, ErrTimespan
		}
		return time.Duration(n) * time.Second, nil
	}
	m := timespanRe.FindStringSubmatch(s)
	if m == nil || (m[1] == "" && m[2] == "" && m[3] == "") {
		return 0, ErrTimespan
	}
	var total int64
	for i, unit := range []int64{3600, 60, 1} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > maxTimespanSeconds/unit {
			return 0, ErrTimespan
		}
		total += n * unit
		if total > maxTimespanSeconds || total < 0 {
			return 0, ErrTimespan
		}
	}
	return time.Duration(total) * time.Second, nil
}
