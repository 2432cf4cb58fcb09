package routing

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	refworker "github.com/aruntime/arcert/reference/worker"
)

// splitWorker answers Health as one worker and Generate as another: what a router sees in the
// second between a connection landing on the wrong worker and the next health poll.
type splitWorker struct {
	arcertv1.UnimplementedWorkerServer
	generateAs string // "" sends no worker header
}

func (f *splitWorker) Health(context.Context, *arcertv1.HealthRequest) (*arcertv1.HealthResponse, error) {
	return &arcertv1.HealthResponse{Worker: "wa", Healthy: true, MaxBatch: 4}, nil
}

func (f *splitWorker) Generate(_ *arcertv1.GenerateRequest, stream grpc.ServerStreamingServer[arcertv1.GenerateResponse]) error {
	if f.generateAs != "" {
		if err := stream.SetHeader(metadata.Pairs(refworker.MetadataWorkerID, f.generateAs)); err != nil {
			return err
		}
	}
	if err := stream.Send(&arcertv1.GenerateResponse{Text: "tok"}); err != nil {
		return err
	}
	return stream.Send(&arcertv1.GenerateResponse{FinishReason: "stop", Usage: &arcertv1.Usage{PromptTokens: 1, CompletionTokens: 1}})
}

// TestAGenerateAnsweredAsAnotherWorkerIsRefused: the router's client ends a Generate whose
// header names another worker with Unavailable before any message, and takes the declared worker
// out of rotation; the worker's own name, or none, passes.
func TestAGenerateAnsweredAsAnotherWorkerIsRefused(t *testing.T) {
	for _, tc := range []struct {
		generateAs string
		refused    bool
	}{{"wb", true}, {"wa", false}, {"", false}} {
		t.Run("as_"+tc.generateAs, func(t *testing.T) {
			addr, _ := serveOn(t, func(g *grpc.Server) { arcertv1.RegisterWorkerServer(g, &splitWorker{generateAs: tc.generateAs}) }, nil)
			// No poll after the first, so none puts wa back in rotation before the test looks.
			p := newPool(t, Options{HealthInterval: time.Hour, Endpoints: []Endpoint{{ID: "wa", Address: addr, Models: []string{"m"}}}})
			runHealthy(t, p, 1)
			wa := p.Workers()[0]
			stream, err := wa.Client.Generate(t.Context(), &arcertv1.GenerateRequest{Model: "m", Prompt: "p", MaxTokens: 1})
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for {
				msg, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if !tc.refused || status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), `answered a call as "wb"`) {
						t.Fatalf("Recv: %v", err)
					}
					break
				}
				texts = append(texts, msg.GetText())
			}
			switch {
			case tc.refused && (len(texts) > 0 || wa.Healthy() || !errors.Is(wa.Err(), errAnotherWorker)):
				t.Fatalf("answered as wb: got %q, wa healthy %v, err %v; want nothing, wa out of rotation", texts, wa.Healthy(), wa.Err())
			case !tc.refused && (len(texts) != 2 || !wa.Healthy()):
				t.Fatalf("answered as %q: got %q, wa healthy %v (%v); want the whole answer, wa in rotation", tc.generateAs, texts, wa.Healthy(), wa.Err())
			}
		})
	}
}
