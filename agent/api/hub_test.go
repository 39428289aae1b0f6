package api

import (
	"fmt"
	"testing"
	"time"
)

func ev(i int, agent, verdict string) Event {
	return Event{Time: time.Unix(int64(i), 0), Kind: "flow", Agent: agent, Verdict: verdict, Target: fmt.Sprint(i)}
}

func TestHubKeepsTheLastEventsInOrder(t *testing.T) {
	h := NewHub(3)
	for i := range 5 {
		h.Publish(ev(i, "a", "ALLOW"))
	}
	got := h.Recent(Filter{})
	if len(got) != 3 || got[0].Target != "2" || got[2].Target != "4" {
		t.Fatalf("recent: %+v", got)
	}
}

func TestFilterMatchesAgentVerdictKindAndSince(t *testing.T) {
	h := NewHub(10)
	h.Publish(ev(1, "a", "DENY"))
	h.Publish(ev(2, "b", "DENY"))
	h.Publish(ev(3, "a", "ALLOW"))
	for _, c := range []struct {
		f    Filter
		want int
	}{
		{Filter{Agent: "a"}, 2},
		{Filter{Verdict: "deny"}, 2},
		{Filter{Agent: "a", Verdict: "DENY"}, 1},
		{Filter{Since: time.Unix(2, 0)}, 2},
		{Filter{Kind: "request"}, 0},
		{Filter{Domain: "agent_memory"}, 0},
	} {
		if got := h.Recent(c.f); len(got) != c.want {
			t.Errorf("%+v: %d events, want %d", c.f, len(got), c.want)
		}
	}
}

func TestSubscribeHasNoGapBetweenPastAndLiveAndCountsWhatASlowReaderLoses(t *testing.T) {
	h := NewHub(10)
	h.Publish(ev(1, "a", "DENY"))
	past, sub := h.Subscribe(Filter{Agent: "a"}, true)
	defer h.Unsubscribe(sub)
	if len(past) != 1 {
		t.Fatalf("past: %+v", past)
	}
	h.Publish(ev(2, "b", "DENY"))
	h.Publish(ev(3, "a", "DENY"))
	if e := <-sub.C; e.Target != "3" {
		t.Fatalf("live: %+v", e)
	}
	for i := range subscriberBuffer + 5 {
		h.Publish(ev(10+i, "a", "ALLOW"))
	}
	if n := sub.TakeLost(); n != 5 {
		t.Errorf("lost %d, want 5", n)
	}
	if n := sub.TakeLost(); n != 0 {
		t.Errorf("lost again %d", n)
	}
	h.Unsubscribe(sub)
	if h.Subscribers() != 0 {
		t.Error("still subscribed")
	}
}

func TestFilterSurvivesTheQueryString(t *testing.T) {
	f := Filter{Agent: "orchestrator", Verdict: "DENY", Kind: "flow", Domain: "agent_memory", Channel: "tool_input", Since: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Follow: true}
	got, err := filterFrom(f.query())
	if err != nil || got != f {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, f)
	}
}
