package sio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Errors returned by Dial.
var (
	ErrHandshake = errors.New("sio: handshake failed")
	ErrRejected  = errors.New("sio: connect rejected")
	ErrClosed    = errors.New("sio: client closed")
)

// Config describes one client. URL is required.
type Config struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:3000 (ws:// works
	// too). The path defaults to /socket.io/.
	URL string
	// HTTPClient performs the websocket handshake; nil = http.DefaultClient.
	// Give it a Transport with a DialContext to pick the source address.
	HTTPClient *http.Client
	// Auth is the raw JSON CONNECT payload; nil sends none.
	Auth json.RawMessage
	// WriteTimeout bounds every write; zero = 10s.
	WriteTimeout time.Duration
	// OnEvent receives every EVENT packet's raw JSON array payload, valid only
	// until it returns (the read buffer is reused). nil = drop.
	OnEvent func(data []byte)
	// OnClose is called once when the connection ends after a successful Dial,
	// with the reason (nil after Close).
	OnClose func(err error)
}

// Handshake is what the server said when the session opened.
type Handshake struct {
	EIOSid       string `json:"sid"`
	PingInterval int    `json:"pingInterval"`
	PingTimeout  int    `json:"pingTimeout"`
	MaxPayload   int    `json:"maxPayload"`
	SocketID     string `json:"-"`
}

// Client is one connected Socket.IO client on the "/" namespace.
type Client struct {
	cfg    Config
	conn   *websocket.Conn
	hs     Handshake
	nextID atomic.Int64
	closed atomic.Bool

	mu   sync.Mutex
	acks map[int64]func(data []byte)
}

// WebsocketURL turns a base URL into the Engine.IO websocket endpoint.
func WebsocketURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("sio: unsupported scheme %q", u.Scheme)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/socket.io/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	q := u.Query()
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Dial opens the websocket, reads the Engine.IO open packet, sends CONNECT
// and waits for the CONNECT ack. ctx bounds the whole handshake.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	wsURL, err := WebsocketURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient:      cfg.HTTPClient,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, conn: conn, acks: make(map[int64]func([]byte))}
	if err := c.handshake(ctx); err != nil {
		conn.CloseNow()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) handshake(ctx context.Context) error {
	_, msg, err := c.conn.Read(ctx)
	if err != nil {
		return fmt.Errorf("%w: reading open packet: %v", ErrHandshake, err)
	}
	if len(msg) == 0 || msg[0] != EIOOpen {
		return fmt.Errorf("%w: first frame %.40q is not an open packet", ErrHandshake, msg)
	}
	if err := json.Unmarshal(msg[1:], &c.hs); err != nil || c.hs.EIOSid == "" {
		return fmt.Errorf("%w: open packet %.80q", ErrHandshake, msg)
	}
	connect := append([]byte{EIOMessage, '0' + Connect}, c.cfg.Auth...)
	if err := c.conn.Write(ctx, websocket.MessageText, connect); err != nil {
		return fmt.Errorf("%w: sending CONNECT: %v", ErrHandshake, err)
	}
	for {
		_, msg, err := c.conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("%w: waiting for CONNECT ack: %v", ErrHandshake, err)
		}
		if len(msg) == 1 && msg[0] == EIOPing {
			if err := c.conn.Write(ctx, websocket.MessageText, []byte{EIOPong}); err != nil {
				return fmt.Errorf("%w: pong: %v", ErrHandshake, err)
			}
			continue
		}
		if len(msg) < 2 || msg[0] != EIOMessage {
			return fmt.Errorf("%w: unexpected frame %.40q", ErrHandshake, msg)
		}
		p, err := ParsePacket(msg[1:])
		if err != nil {
			return fmt.Errorf("%w: %v", ErrHandshake, err)
		}
		switch {
		case p.NSP != "/":
			continue
		case p.Type == ConnectError:
			return fmt.Errorf("%w: %s", ErrRejected, p.Data)
		case p.Type == Connect:
			var ack struct {
				SID string `json:"sid"`
			}
			if err := json.Unmarshal(p.Data, &ack); err != nil || ack.SID == "" {
				return fmt.Errorf("%w: CONNECT ack %.80q", ErrHandshake, p.Data)
			}
			c.hs.SocketID = ack.SID
			return nil
		default:
			return fmt.Errorf("%w: packet type %d before CONNECT ack", ErrHandshake, p.Type)
		}
	}
}

// Handshake returns the session parameters the server sent.
func (c *Client) Handshake() Handshake { return c.hs }

func (c *Client) readLoop() {
	var reason error
	defer func() {
		c.conn.CloseNow()
		if c.closed.Swap(true) {
			reason = nil // closed by Close
		}
		if c.cfg.OnClose != nil {
			c.cfg.OnClose(reason)
		}
	}()
	// One buffer per client, reused for every frame: callbacks see data that
	// is only valid until they return.
	var buf bytes.Buffer
	for {
		_, r, err := c.conn.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			reason = err
			return
		}
		if reason = c.handle(buf.Bytes()); reason != nil {
			return
		}
	}
}

func (c *Client) handle(msg []byte) error {
	if len(msg) == 0 {
		return fmt.Errorf("%w: empty frame", ErrPacket)
	}
	switch msg[0] {
	case EIOPing:
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout)
		defer cancel()
		return c.conn.Write(ctx, websocket.MessageText, []byte{EIOPong})
	case EIOClose:
		return errors.New("sio: server closed the session")
	case EIONoop:
		return nil
	case EIOMessage:
	default:
		return fmt.Errorf("%w: unexpected engine.io type %q", ErrPacket, msg[0])
	}
	p, err := ParsePacket(msg[1:])
	if err != nil {
		return err
	}
	if p.NSP != "/" {
		return nil
	}
	switch p.Type {
	case Event:
		if c.cfg.OnEvent != nil {
			c.cfg.OnEvent(p.Data)
		}
	case Ack:
		c.mu.Lock()
		fn := c.acks[p.ID]
		delete(c.acks, p.ID)
		c.mu.Unlock()
		if fn != nil {
			fn(p.Data)
		}
	case Disconnect:
		return errors.New("sio: server disconnected the socket")
	}
	return nil
}

// Emit sends an EVENT whose payload is the JSON array args (event name
// first), without an ack id.
func (c *Client) Emit(ctx context.Context, args []byte) error {
	return c.write(ctx, AppendEvent(nil, -1, args))
}

// EmitAck sends an EVENT with a fresh ack id; onAck receives the ACK's raw
// JSON array payload on the reader goroutine, valid only until it returns.
func (c *Client) EmitAck(ctx context.Context, args []byte, onAck func(data []byte)) error {
	id := c.nextID.Add(1) - 1
	c.mu.Lock()
	c.acks[id] = onAck
	c.mu.Unlock()
	if err := c.write(ctx, AppendEvent(nil, id, args)); err != nil {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return err
	}
	return nil
}

// Call emits with an ack and waits for it (or ctx).
func (c *Client) Call(ctx context.Context, args []byte) ([]byte, error) {
	got := make(chan []byte, 1)
	if err := c.EmitAck(ctx, args, func(data []byte) { got <- bytes.Clone(data) }); err != nil {
		return nil, err
	}
	select {
	case data := <-got:
		return data, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// PendingAcks is the number of acks requested and not yet received.
func (c *Client) PendingAcks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acks)
}

func (c *Client) write(ctx context.Context, frame []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.WriteTimeout)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, frame)
}

// Close drops the connection without a closing handshake (the load tool
// closes thousands at once); OnClose then runs with a nil error.
func (c *Client) Close() {
	c.closed.Store(true)
	c.conn.CloseNow()
}
