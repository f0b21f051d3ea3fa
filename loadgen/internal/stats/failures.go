package stats

// Failures and exceptions: the distinct errors of the requests, and the
// exceptions raised by tasks, each with their number of occurrences.

type failKey struct{ method, name, err string }

// MaxFailureKinds bounds the distinct (method, name, error) failures kept.
// Error texts come from the target (reason phrases, bad status lines), so
// without a bound a target could grow memory, and the CSV rewritten every
// second, by one row per request. Beyond it, new errors of an entry are
// counted in one row per (method, name) whose error is OtherFailures.
const MaxFailureKinds = 1000

// OtherFailures is the error text of the row that counts an entry's
// failures beyond MaxFailureKinds distinct ones.
const OtherFailures = "(other)"

func (s *Stats) recordFailure(method, name, err string) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	k := failKey{method, name, err}
	if i, ok := s.failures[k]; ok {
		s.failList[i].Occurrences++
		return
	}
	if len(s.failList) >= MaxFailureKinds {
		k.err = OtherFailures
		if i, ok := s.failures[k]; ok {
			s.failList[i].Occurrences++
			return
		}
	}
	s.failures[k] = len(s.failList)
	s.failList = append(s.failList, Failure{Method: method, Name: name, Error: k.err, Occurrences: 1})
}

// RecordException records an exception raised by a task (not a request
// failure), grouped by traceback as Locust does; the first message is kept.
func (s *Stats) RecordException(msg, traceback string) {
	s.excMu.Lock()
	if i, ok := s.excIdx[traceback]; ok {
		s.excList[i].Count++
	} else {
		s.excIdx[traceback] = len(s.excList)
		s.excList = append(s.excList, Exception{Count: 1, Message: msg, Traceback: traceback, Nodes: "local"})
	}
	s.excMu.Unlock()
}
