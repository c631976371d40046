package gbswire

import (
	"errors"
	"net/http"

	"github.com/lafs/lafs/pkg/storage"
)

// ErrBodyTimeout: a request body made no progress for the server's body
// read timeout (408).
var ErrBodyTimeout = errors.New("request body timed out")

// ErrBusy: the server has no room for the request now (503); the client
// may retry later.
var ErrBusy = errors.New("server busy")

// StatusFor maps a Server error to its HTTP status (500 for anything the
// client did not cause).
func StatusFor(err error) int {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, storage.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, storage.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, storage.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, storage.ErrNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, storage.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, storage.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrNotAcceptable):
		return http.StatusNotAcceptable
	case errors.Is(err, ErrBodyTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorFor maps an HTTP status back to the storage error sentinel it
// stands for; nil for statuses without one.
func ErrorFor(code int) error {
	switch code {
	case http.StatusNotFound:
		return storage.ErrNotFound
	case http.StatusConflict:
		return storage.ErrConflict
	case http.StatusUnauthorized:
		return storage.ErrUnauthorized
	case http.StatusRequestEntityTooLarge:
		return storage.ErrTooLarge
	case http.StatusMethodNotAllowed:
		return storage.ErrNotAllowed
	case http.StatusBadRequest:
		return storage.ErrBadRequest
	case http.StatusServiceUnavailable:
		return storage.ErrUnavailable
	}
	return nil
}
