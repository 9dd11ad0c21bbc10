package redisadapter

import "time"

// drainFor bounds how long a stopping writer keeps flushing what is queued.
const drainFor = 2 * time.Second

// runBatches hands what arrives on queue to flush, in batches of up to max
// items taken without waiting, in queue order, until stop is closed; then
// it flushes what is still queued, for at most about drainFor.
func runBatches[T any](queue <-chan T, stop <-chan struct{}, max int, flush func([]T)) {
	batch := make([]T, 0, max)
	for {
		select {
		case it := <-queue:
			batch = fillBatch(queue, append(batch[:0], it), max)
			flush(batch)
		case <-stop:
			deadline := time.Now().Add(drainFor)
			for time.Now().Before(deadline) {
				batch = fillBatch(queue, batch[:0], max)
				if len(batch) == 0 {
					return
				}
				flush(batch)
			}
			return
		}
	}
}

// fillBatch appends what is already queued to batch, without waiting, up
// to max items.
func fillBatch[T any](queue <-chan T, batch []T, max int) []T {
	for len(batch) < max {
		select {
		case it := <-queue:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}
