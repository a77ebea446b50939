// queue.go: the unbounded event queue behind Events(): the plant reader
// never blocks on a slow consumer and never drops an event.

package rithmic

import (
	"sync"

	"github.com/deskguard/deskguard/broker"
)

type queue struct {
	mu     sync.Mutex
	items  []broker.Event
	signal chan struct{}
	done   chan struct{}
	out    chan broker.Event
	once   sync.Once
	exited chan struct{}
}

func newQueue() *queue {
	q := &queue{signal: make(chan struct{}, 1), done: make(chan struct{}), out: make(chan broker.Event, 64), exited: make(chan struct{})}
	go q.pump()
	return q
}

func (q *queue) push(ev broker.Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) pump() {
	defer close(q.exited)
	defer close(q.out)
	for {
		q.mu.Lock()
		batch := q.items
		q.items = nil
		q.mu.Unlock()
		for _, ev := range batch {
			select {
			case q.out <- ev:
			case <-q.done:
				return
			}
		}
		if len(batch) == 0 {
			select {
			case <-q.signal:
			case <-q.done:
				return
			}
		}
	}
}

func (q *queue) close() {
	q.once.Do(func() { close(q.done) })
	<-q.exited
}
