package httpclient

import (
	"bufio"
	"errors"
	"io"
)

// Response is the outcome of one request.
type Response struct {
	// Status is the HTTP status, 0 when no response was read.
	Status int
	// Reason is the reason phrase of the status line.
	Reason string
	// BodyLen is the number of body bytes read (of the final response when
	// redirects were followed).
	BodyLen int64
	// URL is the URL of the final response: the request's URL unless a
	// redirect was followed (requests' Response.url, used in error texts).
	URL string

	location string // the Location header of a 3xx response
}

// maxLine is the longest status or header line read, Python's
// http.client._MAXLINE: a large Set-Cookie or Content-Security-Policy
// header is accepted as python-requests accepts it. Lines longer than the
// reader's buffer (4 KiB, enough for nearly all) are assembled in a buffer
// of their own.
const maxLine = 64 << 10

// errLineTooLong is a status or header line over maxLine.
var errLineTooLong = &protocolError{"header line too long"}

// readLine is br.ReadSlice('\n') for lines up to maxLine. The line is valid
// until the next read from br.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append(make([]byte, 0, 2*len(line)), line...)
	for err == bufio.ErrBufferFull {
		if line, err = br.ReadSlice('\n'); len(long)+len(line) > maxLine {
			return nil, errLineTooLong
		}
		long = append(long, line...)
	}
	return long, err
}

// readResponse reads one response (skipping 1xx) and its body.
func readResponse(br *bufio.Reader, head bool) (resp Response, keep, gotBytes bool, err error) {
	for {
		line, err := readLine(br)
		if err == errLineTooLong {
			return resp, false, true, err
		}
		if err != nil {
			if len(line) == 0 && !gotBytes && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
				return resp, false, false, errRemoteDisconnected
			}
			if err == io.EOF {
				err = errRemoteDisconnected
			}
			return resp, false, len(line) > 0, err
		}
		gotBytes = true
		status, reason, minor, ok := parseStatusLine(line)
		if !ok {
			return resp, false, true, &badStatusLineError{line: string(line)} // Python keeps the CRLF
		}
		resp.Status = status
		var cl int64 = -1
		chunked, closeConn := false, minor == 0
		for {
			h, err := readLine(br)
			if err != nil {
				if err == errLineTooLong {
					return resp, false, true, err
				}
				if err == io.EOF {
					err = errRemoteDisconnected
				}
				return resp, false, true, err
			}
			h = trimCRLF(h)
			if len(h) == 0 {
				break
			}
			colon := indexByte(h, ':')
			if colon <= 0 {
				return resp, false, true, &protocolError{"malformed header line"}
			}
			name, val := h[:colon], trimSpace(h[colon+1:])
			switch {
			case equalFold(name, "content-length"):
				n, ok := parseDecimal(val)
				if !ok {
					return resp, false, true, &protocolError{"invalid Content-Length"}
				}
				cl = n
			case equalFold(name, "transfer-encoding"):
				chunked = containsFold(val, "chunked")
			case status >= 300 && status < 400 && equalFold(name, "location"):
				resp.location = string(val)
			case equalFold(name, "connection"):
				if containsFold(val, "close") {
					closeConn = true
				} else if containsFold(val, "keep-alive") {
					closeConn = false
				}
			}
		}
		if status >= 100 && status < 200 && status != 101 {
			continue // interim response
		}
		resp.Reason = reason
		switch {
		case head || status == 204 || status == 304 || (status >= 100 && status < 200):
		case chunked:
			n, err := readChunked(br)
			resp.BodyLen = n
			if err != nil {
				return resp, false, true, err
			}
		case cl >= 0:
			n, err := br.Discard(int(cl))
			resp.BodyLen = int64(n)
			if err != nil {
				return resp, false, true, &incompleteReadError{read: int64(n), more: cl - int64(n)}
			}
		default:
			n, err := io.Copy(io.Discard, br)
			resp.BodyLen = n
			return resp, false, true, err
		}
		return resp, !closeConn, true, nil
	}
}

func readChunked(br *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return total, &incompleteReadError{read: total}
		}
		line = trimCRLF(line)
		if i := indexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseHex(trimSpace(line))
		if !ok {
			return total, &protocolError{"invalid chunk size"}
		}
		if size == 0 {
			for { // trailers
				t, err := br.ReadSlice('\n')
				if err != nil {
					return total, &incompleteReadError{read: total}
				}
				if len(trimCRLF(t)) == 0 {
					return total, nil
				}
			}
		}
		n, err := br.Discard(int(size))
		total += int64(n)
		if err != nil {
			return total, &incompleteReadError{read: total, more: size - int64(n)}
		}
		if crlf, err := br.ReadSlice('\n'); err != nil || len(trimCRLF(crlf)) != 0 {
			return total, &protocolError{"missing CRLF after chunk"}
		}
	}
}

// parseStatusLine parses "HTTP/1.x SSS Reason\r\n".
func parseStatusLine(line []byte) (status int, reason string, minor int, ok bool) {
	line = trimCRLF(line)
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return 0, "", 0, false
	}
	minor = int(line[7] - '0')
	for _, ch := range line[9:12] {
		if ch < '0' || ch > '9' {
			return 0, "", 0, false
		}
		status = status*10 + int(ch-'0')
	}
	if status < 100 {
		return 0, "", 0, false
	}
	if len(line) > 12 {
		if line[12] != ' ' {
			return 0, "", 0, false
		}
		reason = reasonString(line[13:])
	}
	return status, reason, minor, true
}

var commonReasons = []string{"OK", "Not Found", "Internal Server Error", "Service Unavailable", "Bad Request", "Created", "No Content"}

// reasonString avoids allocating for the common reason phrases.
func reasonString(b []byte) string {
	for _, r := range commonReasons {
		if string(b) == r {
			return r
		}
	}
	return string(b)
}

func trimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= lower(c) && lower(c) <= 'f':
			d = lower(c) - 'a' + 10
		default:
			return 0, false
		}
		n = n*16 + int64(d)
	}
	return n, true
}
