package httpclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"predictlab/internal/pyfmt"
)

// HTTPErrorText is the error Locust records for a status >= 400
// (requests' raise_for_status), e.g.
// HTTPError('404 Client Error: Not Found for url: http://127.0.0.1:8001/x').
// url is the full URL, or the request's name when one was given.
func HTTPErrorText(status int, reason, url string) string {
	kind := "Client"
	if status >= 500 {
		kind = "Server"
	}
	return "HTTPError(" + pyfmt.Repr(fmt.Sprintf("%d %s Error: %s for url: %s", status, kind, reason, url)) + ")"
}

// UnexpectedStatusText is the failure recorded when a status below 400 is not
// in a task's expect_status list.
func UnexpectedStatusText(status int) string {
	return "CatchResponseError(" + pyfmt.Repr(fmt.Sprintf("Unexpected status code: %d", status)) + ")"
}

// pyErrno maps errno values to the Python exception class that OSError
// construction picks for them.
var pyErrno = map[syscall.Errno]string{
	syscall.ECONNREFUSED: "ConnectionRefusedError",
	syscall.ECONNRESET:   "ConnectionResetError",
	syscall.ECONNABORTED: "ConnectionAbortedError",
	syscall.EPIPE:        "BrokenPipeError",
	syscall.ETIMEDOUT:    "TimeoutError",
}

// ErrorText renders a transport error as Locust records it: the innermost
// Python exception's repr, e.g. ConnectionRefusedError(111, 'Connection refused').
func ErrorText(err error) string {
	var errno syscall.Errno
	var dnsErr *net.DNSError
	var bad *badStatusLineError
	var inc *incompleteReadError
	var proto *protocolError
	var tlsErr *tls.RecordHeaderError
	var tooMany *tooManyRedirectsError
	var badRedirect *invalidRedirectError
	var timeout *timeoutError
	switch {
	case errors.As(err, &timeout):
		return timeout.text()
	case errors.As(err, &tooMany):
		return fmt.Sprintf("TooManyRedirects('Exceeded %d redirects.')", tooMany.max)
	case errors.As(err, &badRedirect):
		return badRedirect.text
	case errors.Is(err, errRemoteDisconnected):
		return "RemoteDisconnected('Remote end closed connection without response')"
	case errors.Is(err, errAborted), errors.Is(err, net.ErrClosed):
		return "ConnectionAbortedError(103, 'Software caused connection abort')"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "ReadTimeout('Read timed out.')"
	case errors.As(err, &bad):
		return "BadStatusLine(" + pyfmt.Repr(bad.line) + ")"
	case errors.As(err, &inc):
		return fmt.Sprintf("IncompleteRead(%d bytes read, %d more expected)", inc.read, inc.more)
	case errors.As(err, &proto):
		return "ProtocolError(" + pyfmt.Repr(proto.msg) + ")"
	case errors.As(err, &dnsErr):
		return "gaierror(-2, 'Name or service not known')"
	case errors.As(err, &tlsErr):
		return "SSLError(" + pyfmt.Repr(err.Error()) + ")"
	case errors.As(err, &errno):
		name, ok := pyErrno[errno]
		if !ok {
			name = "OSError"
		}
		return fmt.Sprintf("%s(%d, %s)", name, int(errno), pyfmt.Repr(capitalize(errno.Error())))
	}
	return "ConnectionError(" + pyfmt.Repr(err.Error()) + ")"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
