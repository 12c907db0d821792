// Package hub turns a --model_id into a local folder the way Hugging Face
// transformers does: an existing folder is used as is; otherwise the id is a
// hub repo ("microsoft/git-base", optionally "@revision") that is looked up in
// the shared hub cache and, unless offline, downloaded into it.
//
// The cache is byte-for-byte the layout huggingface_hub writes
// (huggingface_hub constants.py, file_download.py), so Python and gitcap share
// one cache and each can read what the other downloaded:
//
//	$HF_HUB_CACHE/                              (see CacheDir)
//	  .locks/models--microsoft--git-base/<etag>.lock   flock'ed while a blob downloads
//	  models--microsoft--git-base/
//	    blobs/<etag>                            file content; etag = sha256 (LFS) or git sha1
//	    blobs/<etag>.incomplete                 partial download, resumed with a Range request
//	    refs/main                               the commit id of "main", no trailing newline
//	    snapshots/<commit>/config.json          symlink -> ../../blobs/<etag>
//	    snapshots/<commit>/sub/x.json           symlink -> ../../../blobs/<etag>
//	    .no_exist/<commit>/generation_config.json  empty: "absent at this commit"
//
// Downloads follow the hub protocol: HEAD {endpoint}/{repo}/resolve/{rev}/{file}
// gives the commit (X-Repo-Commit), the blob name (X-Linked-Etag or ETag) and the
// size (X-Linked-Size or Content-Length); a GET then fetches the bytes, following
// the CDN redirect. Every file after the first is fetched at the commit the first
// answer named, so one Resolve never mixes two commits.
//
// What it is not: a general hub client. It does not list repos, upload, or
// talk to the Xet storage backend (the hub serves Xet files over plain HTTP too).
package hub
