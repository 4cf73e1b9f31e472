package datarobot

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// FileToken reads the token from a file, trimmed of white space. The file is
// read again when its size or modification time changes, so a rotated token
// is used from the next call on. If a changed file cannot be read or is
// empty, the last good token stays in use and Token returns it with no
// error; LastError tells why it was kept.
type FileToken struct {
	path string

	mu      sync.Mutex
	token   string
	modTime time.Time
	size    int64
	lastErr error
	onError func(error) // told of each new read error while a good token is kept
}

// OnError makes f be called when the file cannot be read while an earlier
// token stays in use, once for each new error. The error never holds the
// token.
func (f *FileToken) OnError(fn func(error)) {
	f.mu.Lock()
	f.onError = fn
	f.mu.Unlock()
}

// NewFileToken reads path once and fails if it holds no token.
func NewFileToken(path string) (*FileToken, error) {
	f := &FileToken{path: path}
	if _, err := f.Token(); err != nil {
		return nil, err
	}
	return f, nil
}

// Token returns the current token.
func (f *FileToken) Token() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err == nil && f.token != "" && fi.ModTime().Equal(f.modTime) && fi.Size() == f.size {
		return f.token, nil
	}
	if err == nil {
		var tok string
		if tok, err = readToken(f.path); err == nil {
			f.token, f.modTime, f.size, f.lastErr = tok, fi.ModTime(), fi.Size(), nil
			return tok, nil
		}
	}
	if f.token != "" {
		if f.onError != nil && (f.lastErr == nil || f.lastErr.Error() != err.Error()) {
			f.onError(err)
		}
		f.lastErr = err
		return f.token, nil
	}
	f.lastErr = err
	return "", err
}

// LastError is the error of the last read that failed, or nil once a read
// succeeds again.
func (f *FileToken) LastError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

// maxTokenFileBytes bounds a token file: a DataRobot API key is short.
const maxTokenFileBytes = 64 << 10

func readToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", errors.Unwrap(err))
	}
	if fi.Size() > maxTokenFileBytes {
		return "", fmt.Errorf("token file %s is larger than %d bytes", path, maxTokenFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", errors.Unwrap(err))
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}
