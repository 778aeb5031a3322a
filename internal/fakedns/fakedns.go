// Package fakedns serves HTTPS hosts with real names on loopback for tests
// of realm and redirect rules.
package fakedns

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// DNS serves HTTPS hosts with real names ("registry.test",
// "auth.docker.io") on loopback, under a test CA, and gives a client that
// reaches them by name. Names it does not serve are refused, so a test
// using its client never leaves the machine.
type DNS struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	roots  *x509.CertPool

	mu      sync.Mutex
	addrs   map[string]string // "name:443" -> listener address
	servers []*httptest.Server
}

// New creates the CA.
func New() (*DNS, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registrykit test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &DNS{caCert: cert, caKey: key, roots: roots, addrs: map[string]string{}}, nil
}

// Serve runs h over HTTPS as name (port 443).
func (d *DNS) Serve(name string, h http.Handler) (*httptest.Server, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, d.caCert, &key.PublicKey, d.caKey)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	d.mu.Lock()
	d.addrs[name+":443"] = srv.Listener.Addr().String()
	d.servers = append(d.servers, srv)
	d.mu.Unlock()
	return srv, nil
}

// Close stops every server.
func (d *DNS) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.servers {
		s.Close()
	}
}

// Transport returns a transport that trusts the test CA and dials the
// served names on loopback, refusing any other address.
func (d *DNS) Transport() *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: d.roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d.mu.Lock()
			real, ok := d.addrs[addr]
			d.mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("fakedns: %s is not served here", addr)
			}
			return dialer.DialContext(ctx, network, real)
		},
	}
}
