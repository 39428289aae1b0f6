package protocol_test

import (
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

const a2aSendV03 = `{"jsonrpc":"2.0","id":"req-1","method":"message/send","params":{
  "message":{"role":"user","kind":"message","messageId":"9229e770-767c-417b-a0b0-f0741243c589",
    "contextId":"c295ea44-7543-4f78-b524-7a38915ad6e4",
    "parts":[
      {"kind":"text","text":"Check allergies for Nicholas Richmond, SSN 939-79-6410"},
      {"kind":"file","file":{"name":"scan.pdf","mimeType":"application/pdf","uri":"https://files.example.com/scan.pdf"}},
      {"kind":"data","data":{"patient_id":"PT-178299"},"metadata":{"routing_path":"a>b"}}
    ],
    "metadata":{"sender_ip":"10.0.0.5"}},
  "configuration":{"acceptedOutputModes":["text/plain"],"blocking":true},
  "metadata":{"internal_id":"x-1"}}}`

const a2aTaskV03 = `{"jsonrpc":"2.0","id":"req-1","result":{
  "kind":"task","id":"363422be-b0f9-4692-a24d-278670e7c7f1","contextId":"c295ea44-7543-4f78-b524-7a38915ad6e4",
  "status":{"state":"completed","message":{"role":"agent","kind":"message","messageId":"m-2","parts":[{"kind":"text","text":"Done: one allergy found."}]},"timestamp":"2025-06-01T10:00:00Z"},
  "artifacts":[{"artifactId":"9b6934dd","name":"allergy_report","description":"Allergy status","parts":[{"kind":"text","text":"Allergies: Penicillin"}]}],
  "history":[{"role":"user","kind":"message","messageId":"9229e770-767c-417b-a0b0-f0741243c589","parts":[{"kind":"text","text":"Check allergies for Nicholas Richmond"}]}],
  "metadata":{}}}`

func TestA2AV03MessageSendBetweenAgentsIsInterAgent(t *testing.T) {
	req := parseReq(t, "POST", "/a2a", hdr(jsonCT...), a2aSendV03, protocol.Hints{Server: protocol.DestAgent, Client: protocol.DestAgent})
	if req.Protocol != protocol.ProtoA2A {
		t.Fatalf("protocol %s", req.Protocol)
	}
	if len(req.Messages) != 1 {
		t.Fatalf("%d messages", len(req.Messages))
	}
	m := req.Messages[0]
	if m.Kind != protocol.KindAgentMessage || m.Channel != protocol.ChannelInterAgent || m.Role != "user" || m.Method != "message/send" ||
		m.MessageID != "9229e770-767c-417b-a0b0-f0741243c589" || m.Path.String() != "/params/message" {
		t.Errorf("%+v", m)
	}
	if len(m.Content) != 3 || m.Content[0].Type != "text" || m.Content[1].Type != "file" || m.Content[1].URI != "https://files.example.com/scan.pdf" ||
		m.Content[1].Name != "scan.pdf" || m.Content[2].Type != "data" || m.Content[2].Data.Get("patient_id").Str() != "PT-178299" {
		t.Errorf("parts: %+v", m.Content)
	}
	var ids []string
	for _, id := range req.Identifiers {
		ids = append(ids, id.Kind+"@"+id.Path.String())
	}
	if got := strings.Join(ids, " "); got != "jsonrpc.id@/id a2a.messageId@/params/message/messageId a2a.contextId@/params/message/contextId" {
		t.Errorf("identifiers: %s", got)
	}
	var meta []string
	for _, p := range req.Metadata {
		meta = append(meta, p.String())
	}
	if got := strings.Join(meta, " "); got != "/params/metadata /params/message/metadata /params/message/parts/2/metadata" {
		t.Errorf("metadata: %s", got)
	}
}

func TestA2AV03TaskResultSplitsStatusArtifactsAndHistory(t *testing.T) {
	req := parseReq(t, "POST", "/a2a", hdr(jsonCT...), a2aSendV03, protocol.Hints{})
	resp := parseResp(t, req, hdr(jsonCT...), a2aTaskV03, protocol.Hints{})
	wantBriefs(t, resp.Messages,
		brief{protocol.KindAgentTask, protocol.ChannelInterAgent, "", ""},
		brief{protocol.KindAgentMessage, protocol.ChannelInterAgent, "", "Done: one allergy found."},
		brief{protocol.KindArtifact, protocol.ChannelArtifact, "allergy_report", "Allergy status\nAllergies: Penicillin"},
		brief{protocol.KindAgentMessage, protocol.ChannelInterAgent, "", "Check allergies for Nicholas Richmond"},
	)
	if s := resp.Messages[0]; s.State != "completed" || s.TaskID != "363422be-b0f9-4692-a24d-278670e7c7f1" || s.Method != "message/send" {
		t.Errorf("task: %+v", s)
	}
	if c := resp.ChannelAt(mustPath(t, "/result/artifacts/0/parts/0/text")); c != protocol.ChannelArtifact {
		t.Errorf("artifact text channel = %s", c)
	}
	if c := resp.ChannelAt(mustPath(t, "/result/status/state")); c != protocol.ChannelInterAgent {
		t.Errorf("status channel = %s", c)
	}
}

func TestA2AReplyToAUserFacingClientIsFinalOutput(t *testing.T) {
	h := protocol.Hints{Server: protocol.DestAgent, Client: protocol.DestUser}
	req := parseReq(t, "POST", "/a2a", hdr(jsonCT...), a2aSendV03, h)
	resp := parseResp(t, req, hdr(jsonCT...), a2aTaskV03, h)
	var got []protocol.Channel
	for _, m := range resp.Messages {
		got = append(got, m.Channel)
	}
	want := []protocol.Channel{protocol.ChannelFinalOutput, protocol.ChannelFinalOutput, protocol.ChannelArtifact, protocol.ChannelInterAgent}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %s, want %s (the user's own message in history stays inter_agent)", i, got[i], want[i])
		}
	}
}

func TestA2AV1SendMessageWithEnumRolesAndNewPartShapes(t *testing.T) {
	req := parseReq(t, "POST", "/", hdr(append(jsonCT, "A2A-Version", "1.0")...), `{"jsonrpc":"2.0","id":11,"method":"SendMessage","params":{
	  "message":{"messageId":"m-1","contextId":"ctx-1","role":"ROLE_USER","parts":[
	    {"text":"Book a room for Deborah Sanchez"},
	    {"url":"https://files.example/itinerary.pdf","mediaType":"application/pdf","filename":"itinerary.pdf"},
	    {"raw":"aGVsbG8=","mediaType":"text/plain","filename":"hello.txt"},
	    {"data":{"guests":2}},
	    {"file":{"fileWithUri":"https://files.example/old.png","mimeType":"image/png","name":"old.png"}}
	  ]},
	  "configuration":{"acceptedOutputModes":["text/plain"],"returnImmediately":false}}}`, protocol.Hints{})
	m := req.Messages[0]
	if req.Protocol != protocol.ProtoA2A || m.Role != "user" || m.Kind != protocol.KindAgentMessage || m.Channel != protocol.ChannelInterAgent {
		t.Fatalf("%s %+v", req.Protocol, m)
	}
	var parts []string
	for _, c := range m.Content {
		parts = append(parts, c.Type+":"+c.Text+c.URI+":"+c.Name+":"+c.MIMEType)
	}
	want := "text:Book a room for Deborah Sanchez:: file:https://files.example/itinerary.pdf:itinerary.pdf:application/pdf file::hello.txt:text/plain data::: file:https://files.example/old.png:old.png:image/png"
	if got := strings.Join(parts, " "); got != want {
		t.Errorf("parts:\n %s\nwant\n %s", got, want)
	}
	resp := parseResp(t, req, hdr(jsonCT...), `{"jsonrpc":"2.0","id":11,"result":{"task":{"id":"t-9","contextId":"ctx-1",
	  "status":{"state":"TASK_STATE_INPUT_REQUIRED","message":{"messageId":"m-2","role":"ROLE_AGENT","parts":[{"text":"Which dates?"}]}},
	  "artifacts":[{"artifactId":"a-1","name":"quote","parts":[{"text":"$120/night"}]}]}}}`, protocol.Hints{})
	wantBriefs(t, resp.Messages,
		brief{protocol.KindAgentTask, protocol.ChannelInterAgent, "", ""},
		brief{protocol.KindAgentMessage, protocol.ChannelInterAgent, "", "Which dates?"},
		brief{protocol.KindArtifact, protocol.ChannelArtifact, "quote", "$120/night"},
	)
	if resp.Messages[0].State != "input-required" || resp.Messages[1].Role != "agent" {
		t.Errorf("state %q role %q", resp.Messages[0].State, resp.Messages[1].Role)
	}
	if resp.Messages[0].Method != "SendMessage" {
		t.Errorf("method %q", resp.Messages[0].Method)
	}
}

func TestA2AStreamEventsV03AndV1(t *testing.T) {
	v03 := "data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"kind\":\"task\",\"id\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"submitted\"}}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"kind\":\"status-update\",\"taskId\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"working\",\"message\":{\"role\":\"agent\",\"kind\":\"message\",\"messageId\":\"m\",\"parts\":[{\"kind\":\"text\",\"text\":\"Looking up records\"}]}},\"final\":false}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"kind\":\"artifact-update\",\"taskId\":\"t1\",\"contextId\":\"c1\",\"artifact\":{\"artifactId\":\"a1\",\"name\":\"summary\",\"parts\":[{\"kind\":\"text\",\"text\":\"SSN 939-79\"}]},\"append\":false,\"lastChunk\":false}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"kind\":\"artifact-update\",\"taskId\":\"t1\",\"contextId\":\"c1\",\"artifact\":{\"artifactId\":\"a1\",\"parts\":[{\"kind\":\"text\",\"text\":\"-6410\"}]},\"append\":true,\"lastChunk\":true}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"kind\":\"status-update\",\"taskId\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"completed\"},\"final\":true}}\n\n"
	v1 := "data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"task\":{\"id\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"TASK_STATE_SUBMITTED\"}}}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"statusUpdate\":{\"taskId\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"TASK_STATE_WORKING\",\"message\":{\"role\":\"ROLE_AGENT\",\"messageId\":\"m\",\"parts\":[{\"text\":\"Looking up records\"}]}}}}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"artifactUpdate\":{\"taskId\":\"t1\",\"contextId\":\"c1\",\"artifact\":{\"artifactId\":\"a1\",\"name\":\"summary\",\"parts\":[{\"text\":\"SSN 939-79\"}]},\"lastChunk\":false}}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"artifactUpdate\":{\"taskId\":\"t1\",\"contextId\":\"c1\",\"artifact\":{\"artifactId\":\"a1\",\"parts\":[{\"text\":\"-6410\"}]},\"append\":true,\"lastChunk\":true}}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"statusUpdate\":{\"taskId\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"TASK_STATE_COMPLETED\"}}}}\n\n"
	for name, c := range map[string]struct{ method, stream string }{"v0.3": {"message/stream", v03}, "1.0": {"SendStreamingMessage", v1}} {
		req := parseReq(t, "POST", "/a2a", hdr(jsonCT...), `{"jsonrpc":"2.0","id":"s","method":"`+c.method+`","params":{"message":{"role":"user","messageId":"u","parts":[{"kind":"text","text":"hi"}]}}}`, protocol.Hints{})
		bodies, sum := parseStream(t, req, c.stream, protocol.Hints{})
		var all []protocol.Message
		for _, b := range bodies {
			all = append(all, b.Messages...)
		}
		var got []string
		for _, m := range all {
			got = append(got, string(m.Kind)+"/"+string(m.Channel)+"/"+m.State+"/"+m.Text)
		}
		want := "agent_task/inter_agent/submitted/ agent_task/inter_agent/working/ agent_message/inter_agent//Looking up records " +
			"artifact/artifact//SSN 939-79 artifact/artifact//-6410 agent_task/inter_agent/completed/"
		if g := strings.Join(got, " "); g != want {
			t.Errorf("%s:\n got  %s\n want %s", name, g, want)
		}
		if !all[3].Partial || !all[4].Partial {
			t.Errorf("%s: artifact chunks not marked partial", name)
		}
		if len(sum) != 1 || sum[0].Kind != protocol.KindArtifact || sum[0].Text != "SSN 939-79-6410" || sum[0].Channel != protocol.ChannelArtifact {
			t.Errorf("%s: summary %+v", name, briefs(sum))
		}
	}
}

func TestA2AAgentCardAtBothWellKnownPaths(t *testing.T) {
	card := `{"protocolVersion":"0.3.0","name":"Clinic Records Agent","description":"Answers questions about patient records.",
	  "url":"https://records.example/a2a","version":"1.0.0","capabilities":{"streaming":true},
	  "defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
	  "skills":[{"id":"allergy_check","name":"Allergy check","description":"Checks a patient's allergies.","tags":["health"],"examples":["Does patient X have allergies?"]}]}`
	for _, path := range []string{"/.well-known/agent-card.json", "/.well-known/agent.json"} {
		req := parseReq(t, "GET", path, hdr("Accept", "application/json"), "", protocol.Hints{})
		if req.Protocol != protocol.ProtoA2A || len(req.Messages) != 0 {
			t.Fatalf("%s: %s %d", path, req.Protocol, len(req.Messages))
		}
		resp := parseResp(t, req, hdr(jsonCT...), card, protocol.Hints{})
		if resp.Card == nil || resp.Card.Name != "Clinic Records Agent" || resp.Card.URL != "https://records.example/a2a" ||
			len(resp.Card.Skills) != 1 || resp.Card.Skills[0].ID != "allergy_check" || resp.Card.ProtocolVersion != "0.3.0" {
			t.Errorf("%s: card %+v", path, resp.Card)
		}
		wantBriefs(t, resp.Messages, brief{protocol.KindAgentCard, protocol.ChannelInterAgent, "Clinic Records Agent",
			"Answers questions about patient records.\nChecks a patient's allergies.\nDoes patient X have allergies?"})
	}
}

func TestA2AOtherMethodsAndErrors(t *testing.T) {
	for method, want := range map[string]string{
		"tasks/get": "GetTask", "tasks/cancel": "CancelTask", "tasks/resubscribe": "SubscribeToTask",
		"tasks/pushNotificationConfig/set": "CreateTaskPushNotificationConfig", "GetTask": "GetTask", "SubscribeToTask": "SubscribeToTask",
	} {
		if got := protocol.A2AMethod(method); got != want {
			t.Errorf("A2AMethod(%s) = %s", method, got)
		}
		req := parseReq(t, "POST", "/a2a", hdr(jsonCT...), `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":{"id":"t-1","taskId":"t-1"}}`, protocol.Hints{})
		if req.Protocol != protocol.ProtoA2A || req.Messages[0].Kind != protocol.KindAgentTask || req.Messages[0].TaskID != "t-1" {
			t.Errorf("%s: %s %+v", method, req.Protocol, req.Messages[0])
		}
	}
	req := parseReq(t, "POST", "/a2a", hdr(jsonCT...), `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"t-1"}}`, protocol.Hints{})
	resp := parseResp(t, req, hdr(jsonCT...), `{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"Task not found"}}`, protocol.Hints{})
	if m := resp.Messages[0]; !m.IsError || m.Kind != protocol.KindAgentTask || m.Text != "Task not found" {
		t.Errorf("%+v", m)
	}
}

func TestA2AHTTPJSONBindingIsRecognisedByPath(t *testing.T) {
	req := parseReq(t, "POST", "/v1/message:send", hdr(jsonCT...), `{"message":{"messageId":"m","role":"ROLE_USER","parts":[{"text":"hello"}]}}`, protocol.Hints{})
	if req.Protocol != protocol.ProtoA2A || req.Messages[0].Kind != protocol.KindAgentMessage || req.Messages[0].Text != "hello" {
		t.Fatalf("%s %+v", req.Protocol, req.Messages)
	}
	resp := parseResp(t, req, hdr(jsonCT...), `{"message":{"messageId":"r","role":"ROLE_AGENT","parts":[{"text":"hi there"}]}}`, protocol.Hints{})
	if m := resp.Messages[0]; m.Kind != protocol.KindAgentMessage || m.Role != "agent" || m.Text != "hi there" {
		t.Errorf("%+v", m)
	}
}
