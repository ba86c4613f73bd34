// Command pulumi-resource-command is a small stand-in for the Pulumi Command
// provider (@pulumi/command 1.2.1): `command:local:Command` and the
// `command:local:run` invoke. remote.* resources are not implemented.
//
// Why it exists: github.com/pulumi/pulumi-command/provider is not served by
// the Go module proxy reachable here (403 for every version, pseudo or not),
// so the real provider cannot be built. It keeps the behaviour that this
// project relies on (see shared PULUMI-FACTS.md):
//   - `create` runs on create; with no `update`, `create` re-runs on any input
//     change; a `triggers` change replaces (the SDK asks replaceOnChanges).
//   - `delete` runs with the old inputs; nothing runs during preview, where
//     stdout/stderr are unknown.
//   - stdout/stderr are captured with one trailing newline stripped; a failure
//     reports the exit status, the command and the combined output.
//   - addPreviousOutputInEnv (default true) sets PULUMI_COMMAND_STDOUT/STDERR.
//   - logging (stdout, stderr, stdoutAndStderr (default), none) streams lines.
//   - customTimeouts kill the command at the deadline.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Version is stamped with -ldflags "-X main.Version=..." by scripts/pulumi-tools.sh.
var Version = "1.2.1"

const (
	commandType = "command:local:Command"
	runToken    = "command:local:run"
)

// inputKeys are the inputs of local.Command; a change to any of them is an
// update (or, for triggers, a replacement).
var inputKeys = []resource.PropertyKey{
	"addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir",
	"environment", "interpreter", "logging", "stdin", "triggers", "update",
}

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &commandProvider{host: host}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func (p *commandProvider) Handshake(
	context.Context, *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"command","version":%q}`, Version)}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func checkType(urn string) error {
	if t := string(resource.URN(urn).Type()); t != commandType {
		return fmt.Errorf("resource type %s is not supported by this build of pulumi-resource-command "+
			"(only %s and the %s invoke)", t, commandType, runToken)
	}
	return nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), marshalOpts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshalOpts)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for _, k := range inputKeys {
		o, n := olds[k], news[k]
		if o.DeepEquals(n) {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case o.IsNull():
			kind = pulumirpc.PropertyDiff_ADD
		case n.IsNull():
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if k == "triggers" {
			kind = map[pulumirpc.PropertyDiff_Kind]pulumirpc.PropertyDiff_Kind{
				pulumirpc.PropertyDiff_ADD:    pulumirpc.PropertyDiff_ADD_REPLACE,
				pulumirpc.PropertyDiff_DELETE: pulumirpc.PropertyDiff_DELETE_REPLACE,
				pulumirpc.PropertyDiff_UPDATE: pulumirpc.PropertyDiff_UPDATE_REPLACE,
			}[kind]
			resp.Replaces = append(resp.Replaces, string(k))
		}
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = append(resp.Diffs, string(k))
		resp.DetailedDiff[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return resp, nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// outputs is the inputs plus stdout/stderr (unknown during preview).
func outputs(inputs resource.PropertyMap, stdout, stderr *string) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range inputKeys {
		if v, ok := inputs[k]; ok {
			out[k] = v
		}
	}
	for k, v := range map[resource.PropertyKey]*string{"stdout": stdout, "stderr": stderr} {
		if v == nil {
			out[k] = resource.MakeComputed(resource.NewStringProperty(""))
		} else {
			out[k] = resource.NewStringProperty(*v)
		}
	}
	return out
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	inputs, err := plugin.UnmarshalProperties(req.GetProperties(), marshalOpts)
	if err != nil {
		return nil, err
	}
	var stdout, stderr *string
	if !req.GetPreview() {
		if cmd := str(inputs["create"]); cmd != "" {
			o, e, err := p.run(ctx, req.GetUrn(), cmd, inputs, nil, req.GetTimeout())
			if err != nil {
				return nil, err
			}
			stdout, stderr = &o, &e
		} else {
			empty := ""
			stdout, stderr = &empty, &empty
		}
	}
	st, err := plugin.MarshalProperties(outputs(inputs, stdout, stderr), marshalOpts)
	if err != nil {
		return nil, err
	}
	id := newID()
	if req.GetPreview() {
		id = ""
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: st}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	// Nothing to refresh: the state is what the last command produced.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), marshalOpts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshalOpts)
	if err != nil {
		return nil, err
	}
	var stdout, stderr *string
	if !req.GetPreview() {
		cmd := str(news["update"])
		if cmd == "" {
			cmd = str(news["create"])
		}
		o, e := "", ""
		if cmd != "" {
			if o, e, err = p.run(ctx, req.GetUrn(), cmd, news, olds, req.GetTimeout()); err != nil {
				return nil, err
			}
		}
		stdout, stderr = &o, &e
	}
	st, err := plugin.MarshalProperties(outputs(news, stdout, stderr), marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: st}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	olds, err := plugin.UnmarshalProperties(req.GetProperties(), marshalOpts)
	if err != nil {
		return nil, err
	}
	if cmd := str(olds["delete"]); cmd != "" {
		if _, _, err := p.run(ctx, req.GetUrn(), cmd, olds, olds, req.GetTimeout()); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != runToken {
		return nil, fmt.Errorf("function %s is not supported by this build of pulumi-resource-command", req.GetTok())
	}
	args, err := plugin.UnmarshalProperties(req.GetArgs(), marshalOpts)
	if err != nil {
		return nil, err
	}
	o, e, err := p.run(ctx, "", str(args["command"]), args, nil, 0)
	if err != nil {
		return nil, err
	}
	out := args.Copy()
	out["stdout"], out["stderr"] = resource.NewStringProperty(o), resource.NewStringProperty(e)
	st, err := plugin.MarshalProperties(out, marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: st}, nil
}

// str reads a string input, looking through secrets; unknown/absent is "".
func str(v resource.PropertyValue) string {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func elements(v resource.PropertyValue) []resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsArray() {
		return v.ArrayValue()
	}
	return nil
}

// run executes cmd the way pulumi-command does and returns stdout and stderr
// with one trailing newline removed.
func (p *commandProvider) run(ctx context.Context, urn, cmd string, in, previous resource.PropertyMap,
	timeoutSecs float64,
) (string, string, error) {
	interp := []string{"/bin/sh", "-c"}
	if list := elements(in["interpreter"]); len(list) > 0 {
		interp = interp[:0]
		for _, v := range list {
			interp = append(interp, str(v))
		}
	}
	if timeoutSecs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeoutSecs*float64(time.Second)))
		defer cancel()
	}
	c := exec.CommandContext(ctx, interp[0], append(interp[1:], cmd)...)
	c.Dir = str(in["dir"])
	c.Env = os.Environ()
	if env := in["environment"]; env.IsObject() || env.IsSecret() {
		for env.IsSecret() {
			env = env.SecretValue().Element
		}
		if env.IsObject() {
			for k, v := range env.ObjectValue() {
				c.Env = append(c.Env, string(k)+"="+str(v))
			}
		}
	}
	addPrev := true
	if v := in["addPreviousOutputInEnv"]; v.IsBool() {
		addPrev = v.BoolValue()
	}
	if addPrev && previous != nil {
		c.Env = append(c.Env,
			"PULUMI_COMMAND_STDOUT="+str(previous["stdout"]),
			"PULUMI_COMMAND_STDERR="+str(previous["stderr"]))
	}
	if s := str(in["stdin"]); s != "" {
		c.Stdin = strings.NewReader(s)
	}

	logging := str(in["logging"])
	if logging == "" {
		logging = "stdoutAndStderr"
	}
	var stdout, stderr, combined bytes.Buffer
	var mu sync.Mutex // guards combined and log ordering
	logTo := func(enabled bool, sev diag.Severity) io.WriteCloser {
		pr, pw := io.Pipe()
		go func() {
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64*1024), 16*1024*1024) // tolerate long lines
			for sc.Scan() {
				if enabled && p.host != nil {
					_ = p.host.Log(context.Background(), sev, resource.URN(urn), sc.Text())
				}
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
		return pw
	}
	outLog := logTo(logging == "stdout" || logging == "stdoutAndStderr", diag.Info)
	errLog := logTo(logging == "stderr" || logging == "stdoutAndStderr", diag.Info)
	c.Stdout = io.MultiWriter(&stdout, lockedWriter{&mu, &combined}, outLog)
	c.Stderr = io.MultiWriter(&stderr, lockedWriter{&mu, &combined}, errLog)
	err := c.Run()
	outLog.Close()
	errLog.Close()
	o := strings.TrimSuffix(stdout.String(), "\n")
	e := strings.TrimSuffix(stderr.String(), "\n")
	if err != nil {
		var exitErr *exec.ExitError
		status := err.Error()
		if errors.As(err, &exitErr) {
			status = exitErr.Error() // "exit status N" or "signal: killed"
		}
		if ctx.Err() == context.DeadlineExceeded {
			status += " (timed out)"
		}
		return o, e, fmt.Errorf("%s: running %q:\n%s", status, cmd, combined.String())
	}
	return o, e, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
