package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// checkpointMessage is what a checkpoint signs: the node and the chain head it vouches for.
// Changing it changes the schema version.
func checkpointMessage(node string, h head) []byte {
	msg := []byte("meshwarden audit checkpoint v1\nnode=")
	msg = append(msg, node...)
	msg = append(msg, "\nhead_seq="...)
	msg = strconv.AppendUint(msg, h.seq, 10)
	msg = append(msg, "\nhead_hash="...)
	msg = append(msg, h.hash...)
	return append(msg, '\n')
}

// signCheckpoint returns the checkpoint block covering h.
func signCheckpoint(key ed25519.PrivateKey, keyID, node string, h head) *Checkpoint {
	sig := ed25519.Sign(key, checkpointMessage(node, h))
	return &Checkpoint{HeadSeq: h.seq, HeadHash: h.hash, KeyID: keyID, Sig: base64.StdEncoding.EncodeToString(sig)}
}

// checkCheckpoint checks that the checkpoint record hdr covers the line before it and, when
// pub is not nil, that pub signed it.
func checkCheckpoint(hdr lineHeader, pub ed25519.PublicKey, pubID string) error {
	cp := hdr.Checkpoint
	switch {
	case cp == nil:
		return errors.New("checkpoint record has no checkpoint block")
	case cp.HeadSeq != hdr.Seq-1 || cp.HeadHash != hdr.Prev:
		return fmt.Errorf("checkpoint covers seq %d %.12s…, not the record before it (seq %d %.12s…)", cp.HeadSeq, cp.HeadHash, hdr.Seq-1, hdr.Prev)
	case pub == nil:
		return nil
	case cp.KeyID != pubID:
		return fmt.Errorf("checkpoint signed by key %s, not by the given key %s", cp.KeyID, pubID)
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Sig)
	if err != nil || !ed25519.Verify(pub, checkpointMessage(hdr.Node, head{cp.HeadSeq, cp.HeadHash}), sig) {
		return errors.New("checkpoint signature does not verify")
	}
	return nil
}
