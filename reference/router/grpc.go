package router

import (
	"context"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
)

// inferenceServer is the gRPC face of the data plane. It shares execute with HTTP; the outcome
// travels in the trailers arcert-outcome, arcert-outcome-reason, arcert-served-by, x-request-id.
type inferenceServer struct {
	arcertv1.UnimplementedInferenceServer
	r *Router
}

// RegisterGRPC registers the Inference service on g, and the standard health service that
// reports the router's readiness (SERVING while it can take work, NOT_SERVING while it has no
// capacity or drains).
func (r *Router) RegisterGRPC(g *grpc.Server) {
	arcertv1.RegisterInferenceServer(g, &inferenceServer{r: r})
	healthpb.RegisterHealthServer(g, r.health)
}

// grpcAuthorization is the authorization metadata of a call.
func grpcAuthorization(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// trailer is the contract's outcome as gRPC trailer metadata.
func trailer(id string, end ending) metadata.MD {
	md := metadata.Pairs(outcome.MetadataOutcome, string(end.class), outcome.MetadataReason, string(end.reason), outcome.MetadataRequestID, id)
	if !end.servedBy.IsZero() {
		md.Set(outcome.MetadataServedBy, end.servedBy.String())
	}
	return md
}

// grpcStatus is the status a non-served ending closes the call with. Where HTTP would send
// Retry-After (a shed, or any ending with a retry delay), the status carries the same delay as
// google.rpc.RetryInfo, gRPC's own retry hint, unless shedWithoutRetryInfo (a negative control's
// defect) leaves it off a shed.
func grpcStatus(end ending, shedWithoutRetryInfo bool) error {
	info, _ := end.reason.Info()
	st := status.New(info.GRPCCode, end.message)
	if (shedWithoutRetryInfo && end.class == outcome.Shed) || (end.retryAfter <= 0 && end.class != outcome.Shed) {
		return st.Err()
	}
	detailed, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryDelay(end.retryAfter))})
	if err != nil {
		return st.Err() // a RetryInfo always marshals; the outcome still reaches the client
	}
	return detailed.Err()
}

func (s *inferenceServer) Complete(req *arcertv1.CompleteRequest, stream grpc.ServerStreamingServer[arcertv1.CompleteResponse]) error {
	started := time.Now()
	r := s.r
	md, _ := metadata.FromIncomingContext(stream.Context())
	ctx, span, _ := startRequest(stream.Context(), mdCarrier(md), "aruntime.request")
	j := job{id: newID("req-"), traceID: requestTrace(span), span: span, arrived: started}
	var end ending
	defer func() { endRequest(span, j, end) }()
	end = r.admitGRPC(ctx, req, &j)
	// The record is written on its own goroutine, as for HTTP, under a ticket taken before the
	// client can see the call end (its last message or its trailer), so an evidence query after
	// the call still waits for it, and a slow evidence write never delays the outcome.
	var ticket uint64
	if end.reason == "" {
		em := &grpcEmitter{stream: stream, id: j.id, atPick: r.defects.GRPCStartsAtPick, spliceFault: r.defects.GRPCSpliceOnDeviceFault, spliceLoss: r.defects.GRPCSpliceOnWorkerLoss,
			coalesce: r.defects.GRPCCoalescedTokens, billRequested: r.defects.Billing.CoalescedBillsRequested, sender: streamSender{stream: stream, d: r.writeTimeout(j)}}
		end = r.execute(ctx, j, em)
		ticket = r.pending.begin()
		if end.class.Served() {
			end = em.finish(end)
		}
		em.sender.close()
	} else {
		ticket = r.pending.begin()
	}
	stream.SetTrailer(trailer(j.id, end))
	r.recordLater(ticket, j, end, started)
	if !end.class.Served() {
		return grpcStatus(end, s.r.defects.GRPCShedWithoutRetryInfo)
	}
	return nil
}

// admitGRPC is admitHTTP's counterpart: identity from the authorization metadata only.
func (r *Router) admitGRPC(ctx context.Context, req *arcertv1.CompleteRequest, j *job) ending {
	p, end := r.authenticate(grpcAuthorization(ctx), identity.RoleTenant)
	if end.reason != "" {
		return end
	}
	j.principal = r.defects.Labels.grpcPrincipal(p)
	if r.defects.Labels.GRPCQuotaByConnection {
		j.connTenant = r.connectionTenant(ctx, p.Tenant)
	}
	class, end := r.trafficClass(p, req.GetTrafficClass())
	j.class = class
	if end.reason != "" {
		return end
	}
	chat := len(req.GetMessages()) > 0
	o := openai.CompletionRequest{Model: req.GetModel(), User: req.GetUser(), CacheSalt: req.GetCacheSalt(), Seed: req.Seed}
	if req.MaxTokens != 0 {
		mt := req.GetMaxTokens()
		o.MaxTokens = &mt
	}
	if chat {
		for _, m := range req.GetMessages() {
			o.Messages = append(o.Messages, openai.ChatMessage{Role: m.GetRole(), Content: m.GetContent()})
		}
	} else {
		prompt := req.GetPrompt()
		o.Prompt = &prompt
	}
	c, ref := Validate(o, chat, r.model)
	j.c = c
	if ref != nil {
		return refused(ref.Reason, ref.Message)
	}
	return ending{}
}

// grpcEmitter streams tokens as CompleteResponse messages.
type grpcEmitter struct {
	stream grpc.ServerStreamingServer[arcertv1.CompleteResponse]
	id     string
	// atPick is the GRPCStartsAtPick defect, spliceFault the GRPCSpliceOnDeviceFault one,
	// spliceLoss the GRPCSpliceOnWorkerLoss one.
	atPick, spliceFault, spliceLoss bool
	// coalesce is the GRPCCoalescedTokens defect; pending holds the tokens not yet sent under it.
	coalesce int
	pending  []string
	// billRequested is the Billing.CoalescedBillsRequested defect (see delivered).
	billRequested bool
	// sender bounds each Send by Router.writeTimeout (0 waits as long as the client likes).
	sender streamSender
}

// unsent is how many accepted tokens the coalescing defect holds for its next message.
func (e *grpcEmitter) unsent() int { return len(e.pending) }

// billsRequested reports the Billing.CoalescedBillsRequested defect under coalescing.
func (e *grpcEmitter) billsRequested() bool { return e.billRequested && e.coalesce > 1 }

// startsAtPick reports the GRPCStartsAtPick defect (see generate).
func (e *grpcEmitter) startsAtPick() bool { return e.atPick }

// splices reports whether a splice defect runs a stream that failed as failed did (its worker's
// status st) again on another worker, output already sent or not (see generate).
func (e *grpcEmitter) splices(failed ending, st *status.Status) bool {
	return (e.spliceFault && deviceFault(st)) || (e.spliceLoss && failed.reason == outcome.ReasonWorkerLost)
}

// start attaches where the request is served to the header, which goes out with the first token
// rather than in a write of its own.
func (e *grpcEmitter) start(head ending) error {
	err := e.stream.SetHeader(metadata.Pairs(outcome.MetadataServedBy, head.servedBy.String(), outcome.MetadataRequestID, e.id))
	if e.spliceFault || e.spliceLoss {
		return nil // the defect: a second start, after a splice, finds the headers already sent
	}
	return err
}

func (e *grpcEmitter) token(text string) error {
	if e.coalesce > 1 {
		if e.pending = append(e.pending, text); len(e.pending) < e.coalesce {
			return nil
		}
		text = strings.Join(e.pending, "")
		e.pending = e.pending[:0]
	}
	return e.sender.send(&arcertv1.CompleteResponse{RequestId: e.id, Text: text})
}

// finish sends the last message with usage; if the caller is gone by then, the request ends as
// client_cancelled rather than completed.
func (e *grpcEmitter) finish(end ending) ending {
	if len(e.pending) > 0 { // the coalescing defect's last partial message
		if err := e.sender.send(&arcertv1.CompleteResponse{RequestId: e.id, Text: strings.Join(e.pending, "")}); err != nil {
			return clientGone(end, err)
		}
	}
	u := &arcertv1.Usage{PromptTokens: end.usage.Prompt, CompletionTokens: end.usage.Completion, CachedTokens: end.usage.Cached}
	if err := e.sender.send(&arcertv1.CompleteResponse{RequestId: e.id, Usage: u, FinishReason: end.finish}); err != nil {
		return clientGone(end, err)
	}
	return end
}

func (s *inferenceServer) ListModels(ctx context.Context, _ *arcertv1.ListModelsRequest) (*arcertv1.ListModelsResponse, error) {
	if _, end := s.r.authenticate(grpcAuthorization(ctx), identity.RoleTenant, identity.RoleOperator); end.reason != "" {
		_ = grpc.SetTrailer(ctx, trailer(newID("req-"), end))
		return nil, grpcStatus(end, s.r.defects.GRPCShedWithoutRetryInfo)
	}
	out := &arcertv1.ListModelsResponse{}
	for _, m := range s.r.cfg.Models {
		out.Models = append(out.Models, m.Name)
	}
	_ = grpc.SetTrailer(ctx, trailer(newID("req-"), ending{class: outcome.Completed, reason: outcome.ReasonNone}))
	return out, nil
}
