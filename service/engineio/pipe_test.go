package engineio

import "io"

// newPipe returns a request body the test writes to at its own pace.
func newPipe() (io.ReadCloser, io.WriteCloser) { return io.Pipe() }
