package audit

import (
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Payloads of domains with audit_payloads are sealed to an audit payload key with HPKE (RFC
// 9180, base mode, single shot): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
// The node holds only the public key, so what it writes it cannot read back; the key's holder
// opens records with `meshwarden audit decrypt`.
const (
	SealKEM  = "dhkem-x25519-hkdf-sha256"
	SealKDF  = "hkdf-sha256"
	SealAEAD = "chacha20-poly1305"

	// PayloadKeyFile and PayloadPublicKeyFile are what `meshwarden audit keygen` writes: the
	// private key (PKCS #8 PEM, mode 0600, kept off the node) and the public key (PKIX PEM,
	// for `meshwarden run --audit-payload-key`).
	PayloadKeyFile       = "audit-payload.key"
	PayloadPublicKeyFile = "audit-payload.pub"

	// sealInfo is HPKE's info: it binds every sealed payload to this use and version.
	sealInfo = "meshwarden audit payload v1"
)

// Parts of an exchange a record may carry sealed.
const (
	PartRequest  = "request"  // the request payload as forwarded: payload_sealed
	PartResponse = "response" // the response payload as relayed to the client: response_sealed
)

// ErrWrongPayloadKey is returned by Open for a payload sealed to another key.
var ErrWrongPayloadKey = errors.New("payload sealed to another audit payload key")

// Sealed is a payload sealed to an audit payload key. Its additional data binds it to its
// record: the record's id and exchange id and which part of the exchange it is, so a sealed
// payload moved to another record, or from request to response, does not open.
type Sealed struct {
	KEM   string `json:"kem"`    // SealKEM
	KDF   string `json:"kdf"`    // SealKDF
	AEAD  string `json:"aead"`   // SealAEAD
	KeyID string `json:"key_id"` // hex of the first 16 bytes of the sha256 of the raw X25519 public key
	Enc   string `json:"enc"`    // base64 encapsulated key (32 bytes)
	CT    string `json:"ct"`     // base64 ciphertext with its 16-byte tag
}

// sealAAD is the additional data a payload is sealed with.
func sealAAD(recordID, exchangeID, part string) []byte {
	return []byte(sealInfo + "\nrecord=" + recordID + "\nexchange=" + exchangeID + "\npart=" + part + "\n")
}

// PayloadSealer seals payloads to an audit payload public key. It is safe for concurrent use.
type PayloadSealer struct {
	pub   hpke.PublicKey
	keyID string
}

// NewPayloadSealer returns a sealer for an X25519 public key.
func NewPayloadSealer(pub *ecdh.PublicKey) (*PayloadSealer, error) {
	if pub.Curve() != ecdh.X25519() {
		return nil, errors.New("audit payload key: want an X25519 key")
	}
	k, err := hpke.NewDHKEMPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("audit payload key: %w", err)
	}
	return &PayloadSealer{pub: k, keyID: keyID(pub.Bytes())}, nil
}

// ReadPayloadSealer reads an audit payload public key (PKIX PEM, X25519).
func ReadPayloadSealer(path string) (*PayloadSealer, error) {
	k, err := readPKIXFile(path, "audit payload public key")
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdh.PublicKey)
	if !ok {
		return nil, fmt.Errorf("audit payload public key %s: %T, want an X25519 key", path, k)
	}
	return NewPayloadSealer(pub)
}

// KeyID names the sealer's key, as Sealed.KeyID does.
func (s *PayloadSealer) KeyID() string { return s.keyID }

// Seal seals payload for the record recordID of exchange exchangeID, as its part (PartRequest
// or PartResponse).
func (s *PayloadSealer) Seal(payload []byte, recordID, exchangeID, part string) (*Sealed, error) {
	enc, snd, err := hpke.NewSender(s.pub, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(sealInfo))
	if err != nil {
		return nil, fmt.Errorf("seal audit payload: %w", err)
	}
	ct, err := snd.Seal(sealAAD(recordID, exchangeID, part), payload)
	if err != nil {
		return nil, fmt.Errorf("seal audit payload: %w", err)
	}
	return &Sealed{KEM: SealKEM, KDF: SealKDF, AEAD: SealAEAD, KeyID: s.keyID,
		Enc: base64.StdEncoding.EncodeToString(enc), CT: base64.StdEncoding.EncodeToString(ct)}, nil
}

// PayloadOpener opens sealed payloads with an audit payload private key.
type PayloadOpener struct {
	priv  hpke.PrivateKey
	keyID string
}

// ReadPayloadOpener reads an audit payload private key (PKCS #8 PEM, X25519); a file that others
// may read is refused.
func ReadPayloadOpener(path string) (*PayloadOpener, error) {
	k, err := readPKCS8File(path, "audit payload key")
	if err != nil {
		return nil, err
	}
	priv, ok := k.(*ecdh.PrivateKey)
	if !ok || priv.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("audit payload key %s: %T, want an X25519 key", path, k)
	}
	return newPayloadOpener(priv)
}

func newPayloadOpener(priv *ecdh.PrivateKey) (*PayloadOpener, error) {
	k, err := hpke.NewDHKEMPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("audit payload key: %w", err)
	}
	return &PayloadOpener{priv: k, keyID: keyID(priv.PublicKey().Bytes())}, nil
}

// KeyID names the opener's key, as Sealed.KeyID does.
func (o *PayloadOpener) KeyID() string { return o.keyID }

// Open returns the payload s seals for the record recordID of exchange exchangeID, as its part.
// A payload sealed to another key is ErrWrongPayloadKey; one changed, or taken from another
// record or part, fails to open.
func (o *PayloadOpener) Open(s *Sealed, recordID, exchangeID, part string) ([]byte, error) {
	if s.KEM != SealKEM || s.KDF != SealKDF || s.AEAD != SealAEAD {
		return nil, fmt.Errorf("open audit payload: suite %s/%s/%s is not %s/%s/%s", s.KEM, s.KDF, s.AEAD, SealKEM, SealKDF, SealAEAD)
	}
	if s.KeyID != o.keyID {
		return nil, fmt.Errorf("%w: sealed to key %s, this key is %s", ErrWrongPayloadKey, s.KeyID, o.keyID)
	}
	enc, err := base64.StdEncoding.DecodeString(s.Enc)
	if err != nil {
		return nil, fmt.Errorf("open audit payload: enc: %w", err)
	}
	ct, err := base64.StdEncoding.DecodeString(s.CT)
	if err != nil {
		return nil, fmt.Errorf("open audit payload: ct: %w", err)
	}
	rcv, err := hpke.NewRecipient(enc, o.priv, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(sealInfo))
	if err != nil {
		return nil, fmt.Errorf("open audit payload: %w", err)
	}
	pt, err := rcv.Open(sealAAD(recordID, exchangeID, part), ct)
	if err != nil {
		return nil, fmt.Errorf("open audit payload of record %s (%s): changed, or not this record's: %w", recordID, part, err)
	}
	return pt, nil
}

// OpenRecord opens the payloads r carries sealed: its request payload and its response
// payload, each nil when r carries none.
func (o *PayloadOpener) OpenRecord(r *Record) (request, response []byte, err error) {
	if r.PayloadSealed != nil {
		if request, err = o.Open(r.PayloadSealed, r.ID, r.ExchangeID, PartRequest); err != nil {
			return nil, nil, err
		}
	}
	if r.ResponseSealed != nil {
		if response, err = o.Open(r.ResponseSealed, r.ID, r.ExchangeID, PartResponse); err != nil {
			return nil, nil, err
		}
	}
	return request, response, nil
}

// GeneratePayloadKey writes a new audit payload key pair into dir (created 0700 when missing):
// PayloadKeyFile (PKCS #8 PEM, 0600) and PayloadPublicKeyFile (PKIX PEM, 0644). Existing key
// files are never overwritten: losing a private key loses every payload sealed to it.
func GeneratePayloadKey(dir string) (keyPath, pubPath string, err error) {
	keyPath, pubPath = filepath.Join(dir, PayloadKeyFile), filepath.Join(dir, PayloadPublicKeyFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create audit payload key directory: %w", err)
	}
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s exists: refusing to overwrite an audit payload key", p)
		}
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate audit payload key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("encode audit payload key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
	if err != nil {
		return "", "", fmt.Errorf("encode audit payload public key: %w", err)
	}
	for _, f := range []struct {
		path, typ string
		der       []byte
		perm      os.FileMode
	}{{keyPath, "PRIVATE KEY", der, 0o600}, {pubPath, "PUBLIC KEY", pubDER, 0o644}} {
		tmp, err := writeTemp(dir, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), f.perm)
		if err != nil {
			return "", "", fmt.Errorf("write %s: %w", f.path, err)
		}
		err = os.Link(tmp, f.path)
		os.Remove(tmp)
		if err != nil {
			return "", "", fmt.Errorf("install %s: %w", f.path, err)
		}
	}
	return keyPath, pubPath, syncDir(dir)
}

// NewID returns a new record id (a UUIDv7), for callers that bind something to a record's id
// before it is written (a sealed payload): the Writer keeps an id that is already set.
func NewID() string { return newID(time.Now()) }
