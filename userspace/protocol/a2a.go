package protocol

import "strings"

// a2aMethods maps every A2A JSON-RPC method, v0.3 and 1.0 spellings (and names used by 1.0
// drafts), to its 1.0 spelling.
var a2aMethods = map[string]string{
	"message/send":                        "SendMessage",
	"message/stream":                      "SendStreamingMessage",
	"tasks/get":                           "GetTask",
	"tasks/list":                          "ListTasks",
	"tasks/cancel":                        "CancelTask",
	"tasks/resubscribe":                   "SubscribeToTask",
	"tasks/pushNotificationConfig/set":    "CreateTaskPushNotificationConfig",
	"tasks/pushNotificationConfig/get":    "GetTaskPushNotificationConfig",
	"tasks/pushNotificationConfig/list":   "ListTaskPushNotificationConfigs",
	"tasks/pushNotificationConfig/delete": "DeleteTaskPushNotificationConfig",
	"agent/getAuthenticatedExtendedCard":  "GetExtendedAgentCard",
	"agent/authenticatedExtendedCard":     "GetExtendedAgentCard",
	"SendMessage":                         "SendMessage",
	"SendStreamingMessage":                "SendStreamingMessage",
	"GetTask":                             "GetTask",
	"ListTasks":                           "ListTasks",
	"CancelTask":                          "CancelTask",
	"SubscribeToTask":                     "SubscribeToTask",
	"TaskResubscription":                  "SubscribeToTask",
	"CreateTaskPushNotificationConfig":    "CreateTaskPushNotificationConfig",
	"SetTaskPushNotificationConfig":       "CreateTaskPushNotificationConfig",
	"GetTaskPushNotificationConfig":       "GetTaskPushNotificationConfig",
	"ListTaskPushNotificationConfigs":     "ListTaskPushNotificationConfigs",
	"ListTaskPushNotificationConfig":      "ListTaskPushNotificationConfigs",
	"DeleteTaskPushNotificationConfig":    "DeleteTaskPushNotificationConfig",
	"GetExtendedAgentCard":                "GetExtendedAgentCard",
	"GetAuthenticatedExtendedCard":        "GetExtendedAgentCard",
}

// A2AMethod returns the 1.0 spelling of an A2A method given in either spelling, "" for a method
// A2A does not define.
func A2AMethod(m string) string { return a2aMethods[m] }

func a2aCanonical(m string) string { return a2aMethods[m] }

// a2aRPC turns one A2A JSON-RPC message into labelled messages.
func (bb *builder) a2aRPC(m *RPC, call Call, known bool) {
	switch m.Type {
	case RPCRequest, RPCNotification:
		op := a2aCanonical(m.Method)
		start := len(bb.b.Messages)
		bb.a2aParams(op, m.Params)
		for i := start; i < len(bb.b.Messages); i++ {
			bb.b.Messages[i].Method = m.Method
		}
	case RPCResult:
		op := ""
		if known {
			op = a2aCanonical(call.Method)
		}
		bb.a2aResult(op, m.Result)
	case RPCError:
		bb.add(Message{Kind: KindAgentTask, Value: m.Value.Get("error"), Text: errorText(m)})
	default:
		bb.add(Message{Kind: KindAgentTask, Value: m.Value})
	}
}

// a2aParams reads the params of a request (op in 1.0 spelling).
func (bb *builder) a2aParams(op string, p Value) {
	bb.meta(p.Get("metadata"))
	switch op {
	case "SendMessage", "SendStreamingMessage":
		msg := p.Get("message")
		if !msg.Exists() {
			msg = p.Get("request") // 1.0 drafts
		}
		if msg.Exists() {
			bb.a2aMessage(msg)
			return
		}
	}
	task := Message{Kind: KindAgentTask, Value: p, Method: op}
	if task.Value.Exists() {
		id := p.Get("id")
		if op == "CreateTaskPushNotificationConfig" || op == "GetTaskPushNotificationConfig" ||
			op == "ListTaskPushNotificationConfigs" || op == "DeleteTaskPushNotificationConfig" {
			id = p.Get("taskId")
		}
		bb.id("a2a.taskId", id)
		task.TaskID = id.Str()
	}
	bb.add(task)
}

// a2aResult reads a result, or a stream event's result: a task, a message, a status or artifact
// update (v0.3 "kind" discriminator, or 1.0 wrapper members), a task list.
func (bb *builder) a2aResult(op string, r Value) {
	switch kind := r.Get("kind").Str(); {
	case kind == "task":
		bb.a2aTask(r)
	case kind == "message":
		bb.a2aMessage(r)
	case kind == "status-update":
		bb.a2aStatusUpdate(r)
	case kind == "artifact-update":
		bb.a2aArtifactUpdate(r)
	case r.Get("task").Type() == TypeObject:
		bb.a2aTask(r.Get("task"))
	case r.Get("message").Type() == TypeObject:
		bb.a2aMessage(r.Get("message"))
	case r.Get("msg").Type() == TypeObject:
		bb.a2aMessage(r.Get("msg"))
	case r.Get("statusUpdate").Type() == TypeObject:
		bb.a2aStatusUpdate(r.Get("statusUpdate"))
	case r.Get("artifactUpdate").Type() == TypeObject:
		bb.a2aArtifactUpdate(r.Get("artifactUpdate"))
	case r.Get("tasks").Type() == TypeArray:
		bb.add(Message{Kind: KindAgentTask, Value: r, Method: op})
		for _, t := range r.Get("tasks").Elements() {
			bb.a2aTask(t)
		}
	case op == "GetExtendedAgentCard":
		bb.agentCard(r)
	case r.Has("status") && r.Has("id"):
		bb.a2aTask(r)
	case r.Has("parts") && r.Has("role"):
		bb.a2aMessage(r)
	default:
		bb.add(Message{Kind: KindAgentTask, Value: r, Method: op})
	}
}

// a2aMessage reads a Message: role, parts, ids, metadata.
func (bb *builder) a2aMessage(v Value) {
	parts := v.Get("parts")
	if !parts.Exists() {
		parts = v.Get("content") // the 0.3 gRPC JSON shape
	}
	m := Message{Kind: KindAgentMessage, Value: v, Role: a2aRole(v.Get("role").Str()),
		MessageID: v.Get("messageId").Str(), TaskID: v.Get("taskId").Str(), ContextID: v.Get("contextId").Str(),
		Content: a2aParts(parts)}
	m.Text = joinText(m.Content)
	bb.id("a2a.messageId", v.Get("messageId"))
	bb.id("a2a.taskId", v.Get("taskId"))
	bb.id("a2a.contextId", v.Get("contextId"))
	for _, r := range v.Get("referenceTaskIds").Elements() {
		bb.id("a2a.referenceTaskId", r)
	}
	bb.meta(v.Get("metadata"))
	for _, p := range parts.Elements() {
		bb.meta(p.Get("metadata"))
	}
	bb.add(m)
}

// a2aTask reads a Task: its envelope (state, ids), its status message, artifacts and history.
func (bb *builder) a2aTask(v Value) {
	st := v.Get("status")
	bb.id("a2a.taskId", v.Get("id"))
	bb.id("a2a.contextId", v.Get("contextId"))
	bb.meta(v.Get("metadata"))
	bb.add(Message{Kind: KindAgentTask, Value: v, TaskID: v.Get("id").Str(), ContextID: v.Get("contextId").Str(),
		State: a2aState(st.Get("state").Str())})
	if sm := st.Get("message"); sm.Type() == TypeObject {
		bb.a2aMessage(sm)
	}
	for _, a := range v.Get("artifacts").Elements() {
		bb.a2aArtifact(a, v.Get("id").Str(), v.Get("contextId").Str())
	}
	for _, h := range v.Get("history").Elements() {
		bb.a2aMessage(h)
	}
}

// a2aStatusUpdate reads a TaskStatusUpdateEvent.
func (bb *builder) a2aStatusUpdate(v Value) {
	st := v.Get("status")
	bb.id("a2a.taskId", v.Get("taskId"))
	bb.id("a2a.contextId", v.Get("contextId"))
	bb.meta(v.Get("metadata"))
	bb.add(Message{Kind: KindAgentTask, Value: v, TaskID: v.Get("taskId").Str(), ContextID: v.Get("contextId").Str(),
		State: a2aState(st.Get("state").Str())})
	if sm := st.Get("message"); sm.Type() == TypeObject {
		bb.a2aMessage(sm)
	}
}

// a2aArtifactUpdate reads a TaskArtifactUpdateEvent.
func (bb *builder) a2aArtifactUpdate(v Value) {
	bb.id("a2a.taskId", v.Get("taskId"))
	bb.id("a2a.contextId", v.Get("contextId"))
	bb.meta(v.Get("metadata"))
	start := len(bb.b.Messages)
	bb.a2aArtifact(v.Get("artifact"), v.Get("taskId").Str(), v.Get("contextId").Str())
	if v.Get("append").Bool() || (v.Has("lastChunk") && !v.Get("lastChunk").Bool()) {
		for i := start; i < len(bb.b.Messages); i++ {
			bb.b.Messages[i].Partial = true
		}
	}
}

// a2aArtifact reads an Artifact.
func (bb *builder) a2aArtifact(v Value, taskID, contextID string) {
	bb.id("a2a.artifactId", v.Get("artifactId"))
	bb.meta(v.Get("metadata"))
	parts := v.Get("parts")
	for _, p := range parts.Elements() {
		bb.meta(p.Get("metadata"))
	}
	m := Message{Kind: KindArtifact, Value: v, Name: v.Get("name").Str(), TaskID: taskID, ContextID: contextID,
		Content: a2aParts(parts)}
	m.Text = strings.TrimSpace(v.Get("description").Str() + "\n" + joinText(m.Content))
	bb.add(m)
}

// a2aParts reads parts in any shape: v0.3 {"kind": "text"|"file"|"data", ...}; 1.0
// {"text"} | {"raw"} | {"url"} | {"data"} with mediaType and filename; and the 1.0 drafts'
// {"file": {"fileWithUri"|"fileWithBytes", ...}}.
func a2aParts(parts Value) []Content {
	var out []Content
	for _, p := range parts.Elements() {
		out = append(out, a2aPart(p))
	}
	return out
}

func a2aPart(p Value) Content {
	c := Content{Path: p.Path(), MIMEType: p.Get("mediaType").Str(), Name: p.Get("filename").Str()}
	switch kind := p.Get("kind").Str(); {
	case kind == "text" || (kind == "" && p.Get("text").Type() == TypeString):
		c.Type, c.Text = "text", p.Get("text").Str()
	case kind == "file" || (kind == "" && p.Get("file").Type() == TypeObject):
		f := p.Get("file")
		c.Type = "file"
		c.Name = firstStr(f.Get("name"), p.Get("filename"))
		c.MIMEType = firstStr(f.Get("mimeType"), f.Get("mediaType"), p.Get("mediaType"))
		c.URI = firstStr(f.Get("uri"), f.Get("fileWithUri"), f.Get("url"))
		if !f.Has("uri") && !f.Has("fileWithUri") {
			c.Data = firstValue(f.Get("bytes"), f.Get("fileWithBytes"))
		}
	case kind == "" && p.Has("raw"):
		c.Type, c.Data = "file", p.Get("raw")
	case kind == "" && p.Get("url").Type() == TypeString:
		c.Type, c.URI = "file", p.Get("url").Str()
	case kind == "data" || (kind == "" && p.Has("data")):
		c.Type, c.Data = "data", p.Get("data")
		if c.Data.Type() == TypeString {
			c.Text = c.Data.Str()
		}
	default:
		c.Type = kind
	}
	return c
}

func firstStr(vs ...Value) string {
	for _, v := range vs {
		if v.Type() == TypeString {
			return v.Str()
		}
	}
	return ""
}

func firstValue(vs ...Value) Value {
	for _, v := range vs {
		if v.Exists() {
			return v
		}
	}
	return Value{}
}

// a2aRole normalises a role: "user" / "ROLE_USER" → "user", "agent" / "ROLE_AGENT" → "agent".
func a2aRole(r string) string {
	return strings.ToLower(strings.TrimPrefix(r, "ROLE_"))
}

// a2aState normalises a task state to the v0.3 spelling: "TASK_STATE_INPUT_REQUIRED" →
// "input-required".
func a2aState(s string) string {
	s = strings.TrimPrefix(s, "TASK_STATE_")
	s = strings.ReplaceAll(strings.ToLower(s), "_", "-")
	if s == "cancelled" {
		s = "canceled"
	}
	return s
}
