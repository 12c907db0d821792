package main

import (
	"context"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/hub"
	"github.com/urfave/cli/v2"
)

// hubResolver resolves model ids as Hugging Face does: a local folder, the
// hub cache (HF_HUB_CACHE, HF_HOME), or a download unless HF_HUB_OFFLINE.
func hubResolver(c *cli.Context) gitmodel.Resolver {
	quiet := c.Bool("quiet")
	return func(ctx context.Context, id string) (string, error) {
		return hub.Resolve(ctx, id, hub.Options{Quiet: quiet})
	}
}
