package stats

// Failures and exceptions: the distinct errors of the requests, and the
// exceptions raised by tasks, each with their number of occurrences.

type failKey struct{ method, name, err string }

func (s *Stats) recordFailure(method, name, err string) {
	s.failMu.Lock()
	k := failKey{method, name, err}
	if i, ok := s.failures[k]; ok {
		s.failList[i].Occurrences++
	} else {
		s.failures[k] = len(s.failList)
		s.failList = append(s.failList, Failure{Method: method, Name: name, Error: err, Occurrences: 1})
	}
	s.failMu.Unlock()
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
