// Package gitmodel is Microsoft's GIT (GenerativeImage2Text) as Hugging Face
// transformers v4.36 computes it: config, weights by their checkpoint names,
// the CLIP vision tower, the visual projection, the BERT-style decoder with
// GIT's attention mask, the LM head and generation.
//
//	pixel_values [B,3,S,S] --CLIP ViT--> [B, N_img, Dv] --Linear+LayerNorm--> [B, N_img, D]
//	input_ids    [B,T]     --word+pos emb, LayerNorm-------------------->   [B, T, D]
//	      concat: [B, N_img+T, D] --> decoder layers (post-LN) --> Linear --> logits
//
// The struct tree mirrors the checkpoint keys (git.image_encoder.vision_model…,
// git.encoder.layer.N…, output), so grep finds both sides.
// See shared/docs/git-architecture.md for every numeric detail.
package gitmodel
