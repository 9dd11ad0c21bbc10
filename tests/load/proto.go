package main

import (
	"encoding/json"
	"time"

	"github.com/hubkit/hubkit/tests/load/internal/hist"
)

// workerEnv selects worker mode when set to "1" in a re-executed child.
const workerEnv = "HUBLOAD_WORKER"

// workerSpec is the first line the coordinator writes to a worker: which
// clients it owns. Client indexes are global so roles, rooms, targets and
// source addresses do not depend on how clients are split over workers.
type workerSpec struct {
	Index              int             `json:"index"`
	Targets            []string        `json:"targets"`
	Subscribers        int             `json:"subscribers"` // global total
	Publishers         int             `json:"publishers"`  // global total
	SubLo, SubHi       int             // subscribers [SubLo,SubHi) are ours
	PubLo, PubHi       int             // publishers [PubLo,PubHi) are ours
	Rooms              int             `json:"rooms"` // 0 = subscribers join nothing
	Sources            int             `json:"sources"`
	SourceBase         string          `json:"sourceBase"`
	ConnectConcurrency int             `json:"connectConcurrency"`
	ConnectTimeout     time.Duration   `json:"connectTimeout"`
	Auth               json.RawMessage `json:"auth,omitempty"`
	Pad                int             `json:"pad"`
}

// command is every later line the coordinator writes.
type command struct {
	Cmd      string        `json:"cmd"` // "publish" or "quit"
	Phase    int           `json:"phase"`
	Rate     float64       `json:"rate"` // global msgs/s over all publishers
	StartNs  int64         `json:"startNs"`
	Duration time.Duration `json:"duration"`
	Drain    time.Duration `json:"drain"`
}

// readyMsg reports a worker's connect phase.
type readyMsg struct {
	Connected int             `json:"connected"`
	Failed    int             `json:"failed"`
	Joined    []int64         `json:"joined"` // per room and target: [room*len(Targets)+target]
	Handshake *hist.Histogram `json:"handshake"`
	ElapsedNs int64           `json:"elapsedNs"`
	Errors    []string        `json:"errors,omitempty"`
}

// phaseMsg reports one publish phase of one worker.
type phaseMsg struct {
	Phase       int             `json:"phase"`
	SentPerRoom []int64         `json:"sentPerRoom"` // per room and publisher target: [room*T+target]
	RecvByPair  []int64         `json:"recvByPair"`  // deliveries by [publisherTarget*T+subscriberTarget]
	Sent        int64           `json:"sent"`
	SendErrors  int64           `json:"sendErrors"`
	Acked       int64           `json:"acked"`
	AckErrors   int64           `json:"ackErrors"`
	Received    int64           `json:"received"`
	Late        int64           `json:"late"` // stamped with another phase
	Foreign     int64           `json:"foreign"`
	Latency     *hist.Histogram `json:"latency"`
	Same        *hist.Histogram `json:"same"`  // publisher on the subscriber's target
	Cross       *hist.Histogram `json:"cross"` // publisher on another target
	Disconnects int64           `json:"disconnects"`
	MaxLagNs    int64           `json:"maxLagNs"` // how far a publisher fell behind its schedule
	Errors      []string        `json:"errors,omitempty"`
}

// envelope is one line a worker writes.
type envelope struct {
	Type  string    `json:"type"` // "ready", "phase" or "fatal"
	Ready *readyMsg `json:"ready,omitempty"`
	Phase *phaseMsg `json:"phase,omitempty"`
	Error string    `json:"error,omitempty"`
}

// errorList keeps the first few distinct error strings.
type errorList []string

const maxErrors = 5

func (l *errorList) add(msg string) {
	if len(*l) >= maxErrors {
		return
	}
	for _, m := range *l {
		if m == msg {
			return
		}
	}
	*l = append(*l, msg)
}
