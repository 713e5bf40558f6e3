/*
 * sc_node_lws.c - BACnet/SC interop test node built on libwebsockets (Debian 12: 4.1.6).
 *
 * It connects to a BACnet/SC hub the way nodes built on BACnet Stack (the open-source C
 * stack) do: BACnet Stack's BACnet/SC datalink sits on libwebsockets, and this program sets
 * libwebsockets up the same way, then runs the common "interop node" script (see usage()).
 *
 * What BACnet Stack does with libwebsockets (read in bacnet-stack/bacnet-stack,
 * ports/linux/websocket-cli.c, bws_cli_connect() and bws_cli_websocket_event(); the
 * ports/bsd copy is the same). This file was written from those notes, no code was copied:
 *
 *  - ALPN: lws_client_connect_info.alpn = "h2;http/1.1". libwebsockets splits that field
 *    on commas only, so the ClientHello carries ONE protocol name, 11 octets long, the
 *    literal text "h2;http/1.1". It offers neither "h2" nor "http/1.1". A hub that insists
 *    on finding "http/1.1" in the list (or answers no_application_protocol when nothing
 *    matches) locks BACnet Stack nodes out. This program sends exactly that list.
 *  - ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
 *    LCCSCF_ALLOW_SELFSIGNED. No host name check (BACnet/SC has none). ALLOW_SELFSIGNED
 *    makes lws's verify callback clear DEPTH_ZERO_SELF_SIGNED_CERT and
 *    SELF_SIGNED_CERT_IN_CHAIN, so the node accepts a self-signed hub certificate, and
 *    also ANY chain that carries its own self-signed root (an OpenSSL server sends its root
 *    when it can build the chain from its store): tried here, a node given a foreign
 *    --ca still connected. The interop contract says "trust only --ca", so this program
 *    leaves ALLOW_SELFSIGNED out by default; --allow-selfsigned puts it back to get
 *    BACnet Stack's exact flags. Nothing the hub sees changes either way.
 *  - Certificates are handed over in memory: client_ssl_cert_mem, client_ssl_key_mem,
 *    client_ssl_ca_mem (PEM); context options LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
 *    LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND; port CONTEXT_PORT_NO_LISTEN;
 *    timeout_secs = connect_timeout_secs = the connect timeout. No cipher, group or TLS
 *    version settings, so OpenSSL's defaults apply.
 *  - The URL is split with lws_parse_uri(); address, host and origin are all the host
 *    part of the URL (so "Host: 127.0.0.1" with no port, "Origin: http://127.0.0.1").
 *    The path goes to lws exactly as lws_parse_uri() returns it. In lws 4.1.6 that is "/"
 *    for "wss://h:p/" (and for no path at all), but "hub/x" (no leading '/') for
 *    "wss://h:p/hub/x", and 4.1.6 sends it as is: the request line is then
 *    "GET hub/x HTTP/1.1" (seen on the wire). Newer lws puts the '/' back when it stashes
 *    the path. --fix-path adds it here (what lws's own test clients do).
 *  - One protocol in the context's list, named after the WebSocket subprotocol
 *    ("hub.bsc.bacnet.org"), also set as connect_info.protocol.
 *  - retry_and_idle_policy: secs_since_valid_ping = 3, secs_since_valid_hangup = 10, so
 *    lws sends a WebSocket Ping after 3 s without valid traffic and drops the connection
 *    after 10 s without any.
 *  - Every BVLC message goes out with one lws_write(..., LWS_WRITE_BINARY), one per
 *    LWS_CALLBACK_CLIENT_WRITEABLE. Received fragments are appended until
 *    lws_is_final_fragment(); a non-binary frame is answered with lws_close_reason(1003)
 *    and a close.
 *
 * Where this program deliberately differs (none of it changes what goes on the wire
 * except the TLS version floor, which the hub requires anyway):
 *  - TLS 1.3 only (ssl_client_options_set = SSL_OP_NO_SSLv3..SSL_OP_NO_TLSv1_2), and the
 *    negotiated version is checked. BACnet Stack leaves OpenSSL's floor (TLS 1.2).
 *  - Only --ca is trusted: LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS (BACnet Stack also
 *    trusts the OS store) and no LCCSCF_ALLOW_SELFSIGNED unless --allow-selfsigned.
 *  - It is single-threaded: one lws_service() loop, no worker thread.
 *  - It skips an "EC PARAMETERS" block in front of the private key (lws 4.1 reads only
 *    the first PEM block of the key).
 *  - It checks that the server echoed Sec-WebSocket-Protocol: hub.bsc.bacnet.org.
 *
 * BVLC-SC encoding (ASHRAE 135 Annex AB): every number big-endian; header = function,
 * control flags (0x08 originating VMAC, 0x04 destination VMAC, 0x02 destination options,
 * 0x01 data options), message id (2), then the optional parts in that order, then payload.
 */

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ------------------------------------------------------------------------------------ */
/* BVLC-SC constants                                                                    */

enum {
	BVLC_RESULT = 0x00,
	BVLC_ENCAPSULATED_NPDU = 0x01,
	BVLC_CONNECT_REQUEST = 0x06,
	BVLC_CONNECT_ACCEPT = 0x07,
	BVLC_DISCONNECT_REQUEST = 0x08,
	BVLC_DISCONNECT_ACK = 0x09,
	BVLC_HEARTBEAT_REQUEST = 0x0A,
	BVLC_HEARTBEAT_ACK = 0x0B,
};

#define FLAG_ORIG 0x08
#define FLAG_DEST 0x04
#define FLAG_DEST_OPTS 0x02
#define FLAG_DATA_OPTS 0x01
#define OPT_MORE 0x80
#define OPT_HAS_DATA 0x20

#define VMAC_LEN 6
#define UUID_LEN 16
#define CONNECT_PAYLOAD_LEN 26
#define OUR_MAX_BVLC 1600
#define OUR_MAX_NPDU 1497

#define HUB_SUBPROTOCOL "hub.bsc.bacnet.org"
/* The ALPN field exactly as BACnet Stack sets it (one 11-octet token on the wire). */
#define BACNET_STACK_ALPN "h2;http/1.1"

/* Timers (milliseconds) */
#define CONNECT_ACCEPT_WAIT_MS 5000  /* contract: Connect-Accept within 5 s */
#define DISCONNECT_ACK_WAIT_MS 2000  /* contract: Disconnect-ACK within 2 s */
#define CLOSE_WAIT_MS 3000           /* our Close frame answered within 3 s */
#define ERROR_CLOSE_WAIT_MS 1000     /* the same on the way out after an error */
#define LWS_CONNECT_TIMEOUT_S 10     /* TCP + TLS + upgrade (lws timeout_secs) */
#define TICK_MS 50

/* Largest message we accept; we announce 1600 but tolerate more before giving up. */
#define RX_CAP 65536
#define TX_CAP 2048
#define TXQ_LEN 64

/* ------------------------------------------------------------------------------------ */
/* state                                                                                */

enum node_state {
	ST_CONNECTING,      /* TCP / TLS / upgrade in progress */
	ST_WAIT_ACCEPT,     /* Connect-Request sent */
	ST_CONNECTED,       /* Connect-Accept received */
	ST_DISCONNECTING,   /* we sent Disconnect-Request after "bye" */
	ST_HUB_DISCONNECT,  /* the hub sent Disconnect-Request; answering */
	ST_CLOSING,         /* WebSocket close requested / in progress; clean exit pending */
};

/* What to do once a queued message has been written. */
enum after_write {
	AFTER_NOTHING,
	AFTER_COUNT_SENT,   /* one of the two greeting messages */
	AFTER_START_DISC,   /* our Disconnect-Request: start the ACK timer */
	AFTER_CLOSE,        /* our Disconnect-ACK to the hub: close the WebSocket */
};

struct txmsg {
	uint8_t buf[LWS_PRE + TX_CAP];
	size_t len;
	enum after_write after;
};

struct options {
	const char *url, *ca, *cert, *key, *name, *alpn;
	uint8_t vmac[VMAC_LEN], peer[VMAC_LEN];
	int timeout_s;
	int send_delay_ms;
	bool allow_selfsigned, fix_path, verbose;
};

static struct options opt;

static struct {
	struct lws_context *ctx;
	struct lws *wsi;
	enum node_state state;
	bool finished;
	bool destroying;
	int exit_code;

	struct txmsg txq[TXQ_LEN];
	unsigned txq_head, txq_count;
	bool close_requested;
	bool close_sent;
	uint16_t close_status;
	bool failing;       /* an error was reported; closing before exit */

	uint8_t rx[RX_CAP];
	size_t rx_len;

	uint16_t next_id;
	uint16_t connect_id, disc_id;
	uint8_t uuid[UUID_LEN];
	int greetings_written;
	bool greetings_queued;
	int64_t t_greet;
	bool bye_seen;
	bool hub_ack_written;
	int peer_close_status;

	int64_t t_start, t_accept_deadline, t_disc_deadline, t_close_deadline;
	lws_sorted_usec_list_t tick;
} g;

/* ------------------------------------------------------------------------------------ */
/* small helpers                                                                        */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	fprintf(stderr, "sc_node_lws[%s]: ", opt.name ? opt.name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sc_node_lws[%s]: warning: ", opt.name ? opt.name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void request_close(uint16_t status, int64_t wait_ms);

/*
 * An error: one sentence on stderr (the first error wins), then exit `code`. While the
 * WebSocket is open it is first closed with `status` (waiting at most ERROR_CLOSE_WAIT_MS
 * for the closing handshake); otherwise the program stops at once.
 */
static void vfail(int code, uint16_t status, const char *fmt, va_list ap)
{
	if (g.finished || g.failing)
		return;
	fprintf(stderr, "sc_node_lws[%s]: error: ", opt.name ? opt.name : "?");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	g.exit_code = code;
	if (g.wsi && g.state != ST_CONNECTING && !g.close_requested) {
		g.failing = true;
		request_close(status, ERROR_CLOSE_WAIT_MS);
		return;
	}
	g.finished = true;
	if (g.ctx)
		lws_cancel_service(g.ctx);
}

static void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(code, LWS_CLOSE_STATUS_NORMAL, fmt, ap);
	va_end(ap);
}

static void fail_status(int code, uint16_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_status(int code, uint16_t status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(code, status, fmt, ap);
	va_end(ap);
}

/* Stop now with the exit code already chosen (no output). */
static void stop(void)
{
	g.finished = true;
	if (g.ctx)
		lws_cancel_service(g.ctx);
}

static void finish_ok(void)
{
	if (g.finished || g.failing)
		return;
	out_line("disconnected");
	g.exit_code = 0;
	stop();
}

static bool parse_vmac(const char *s, uint8_t out[VMAC_LEN])
{
	unsigned v[VMAC_LEN];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return false;
	for (int i = 0; i < VMAC_LEN; i++)
		out[i] = (uint8_t)v[i];
	return true;
}

static void vmac_text(const uint8_t *v, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4], v[5]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static bool random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static uint16_t take_id(void)
{
	return g.next_id++;
}

/* Read a whole (small) file; the buffer gets a trailing NUL that is not counted. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, 4096, f);

		n += r;
		if (r < 4096) {
			if (ferror(f)) {
				free(buf);
				fclose(f);
				return NULL;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/*
 * lws 4.1 decodes only the first PEM block of client_ssl_key_mem, so a key file that
 * starts with "EC PARAMETERS" (openssl ecparam -genkey) fails to load. Point at the first
 * "...PRIVATE KEY-----" block instead (BACnet Stack passes the file as is).
 */
static const uint8_t *private_key_block(const uint8_t *pem, size_t *len)
{
	const char *p = (const char *)pem;

	while ((p = strstr(p, "-----BEGIN ")) != NULL) {
		const char *eol = strchr(p, '\n');
		const char *k = strstr(p, "PRIVATE KEY-----");

		if (k && (!eol || k < eol)) {
			*len -= (size_t)(p - (const char *)pem);
			return (const uint8_t *)p;
		}
		p += 11;
	}
	return pem;
}

/* ------------------------------------------------------------------------------------ */
/* sending                                                                              */

/* Builds header + payload into a queue slot; returns false if it does not fit. */
static bool queue_msg(uint8_t function, uint16_t id, const uint8_t *dest,
		      const uint8_t *payload, size_t payload_len, enum after_write after)
{
	struct txmsg *m;
	uint8_t *p;
	size_t len = 4 + (dest ? VMAC_LEN : 0) + payload_len;

	if (g.txq_count == TXQ_LEN || len > TX_CAP) {
		fail(1, "send queue full or message too long (function 0x%02x, %zu octets)",
		     function, len);
		return false;
	}
	m = &g.txq[(g.txq_head + g.txq_count) % TXQ_LEN];
	p = m->buf + LWS_PRE;
	p[0] = function;
	p[1] = dest ? FLAG_DEST : 0;  /* a node sends D only; the hub adds O */
	put16(p + 2, id);
	len = 4;
	if (dest) {
		memcpy(p + len, dest, VMAC_LEN);
		len += VMAC_LEN;
	}
	if (payload_len)
		memcpy(p + len, payload, payload_len);
	m->len = len + payload_len;
	m->after = after;
	g.txq_count++;
	if (g.wsi)
		lws_callback_on_writable(g.wsi);
	return true;
}

static void queue_npdu(const uint8_t *dest, const char *text, enum after_write after)
{
	queue_msg(BVLC_ENCAPSULATED_NPDU, take_id(), dest, (const uint8_t *)text, strlen(text),
		  after);
}

/* Ask for a Close frame with `status`; queued messages go out first. */
static void request_close(uint16_t status, int64_t wait_ms)
{
	if (!g.failing)
		g.state = ST_CLOSING;
	g.close_requested = true;
	g.close_status = status;
	g.t_close_deadline = now_ms() + wait_ms;
	if (g.wsi)
		lws_callback_on_writable(g.wsi);
}

/* LWS_CALLBACK_CLIENT_WRITEABLE: one lws_write per callback. Returns -1 to close. */
static int on_writeable(struct lws *wsi)
{
	if (g.txq_count) {
		struct txmsg *m = &g.txq[g.txq_head];
		int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_BINARY);

		if (n < (int)m->len) {
			g.wsi = NULL;
			fail(1, "lws_write failed (%d of %zu octets): the connection is broken", n,
			     m->len);
			return -1;
		}
		g.txq_head = (g.txq_head + 1) % TXQ_LEN;
		g.txq_count--;
		switch (m->after) {
		case AFTER_COUNT_SENT:
			if (++g.greetings_written == 2)
				out_line("sent");
			break;
		case AFTER_START_DISC:
			g.t_disc_deadline = now_ms() + DISCONNECT_ACK_WAIT_MS;
			break;
		case AFTER_CLOSE:
			g.hub_ack_written = true;
			request_close(LWS_CLOSE_STATUS_NORMAL, CLOSE_WAIT_MS);
			break;
		case AFTER_NOTHING:
			break;
		}
		if (g.txq_count || g.close_requested)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (g.close_requested && !g.close_sent) {
		/* lws sends a Close frame with this status, then waits for the peer's Close. */
		g.close_sent = true;
		lws_close_reason(wsi, (enum lws_close_status)g.close_status, NULL, 0);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* receiving                                                                            */

struct bvlc {
	uint8_t function, flags;
	uint16_t id;
	const uint8_t *orig, *dest;
	const uint8_t *payload;
	size_t payload_len;
};

/* Walks a header-option list; returns the offset after it or 0 if it is cut short. */
static size_t skip_options(const uint8_t *b, size_t len, size_t off)
{
	for (;;) {
		uint8_t marker;

		if (off >= len)
			return 0;
		marker = b[off++];
		if (marker & OPT_HAS_DATA) {
			size_t n;

			if (off + 2 > len)
				return 0;
			n = get16(b + off);
			off += 2;
			if (off + n > len)
				return 0;
			off += n;
		}
		if (!(marker & OPT_MORE))
			return off;
	}
}

static const char *decode(const uint8_t *b, size_t len, struct bvlc *m)
{
	size_t off = 4;

	if (len < 4)
		return "message shorter than 4 octets";
	memset(m, 0, sizeof(*m));
	m->function = b[0];
	m->flags = b[1];
	m->id = get16(b + 2);
	if (m->flags & FLAG_ORIG) {
		if (off + VMAC_LEN > len)
			return "originating VMAC cut short";
		m->orig = b + off;
		off += VMAC_LEN;
	}
	if (m->flags & FLAG_DEST) {
		if (off + VMAC_LEN > len)
			return "destination VMAC cut short";
		m->dest = b + off;
		off += VMAC_LEN;
	}
	if (m->flags & FLAG_DEST_OPTS) {
		off = skip_options(b, len, off);
		if (!off)
			return "destination option list cut short";
	}
	if (m->flags & FLAG_DATA_OPTS) {
		off = skip_options(b, len, off);
		if (!off)
			return "data option list cut short";
	}
	m->payload = b + off;
	m->payload_len = len - off;
	return NULL;
}

/* The NPDU as text: printable ASCII as is, anything else as \xNN. */
static void payload_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
	}
	out[o] = 0;
}

/* "hello from NAME" to --peer, then "broadcast from NAME" to everyone. */
static void send_greetings(void)
{
	static const uint8_t broadcast[VMAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char text[128];

	if (g.greetings_queued)
		return;
	g.greetings_queued = true;
	snprintf(text, sizeof(text), "hello from %s", opt.name);
	queue_npdu(opt.peer, text, AFTER_COUNT_SENT);
	snprintf(text, sizeof(text), "broadcast from %s", opt.name);
	queue_npdu(broadcast, text, AFTER_COUNT_SENT);
}

static void on_connect_accept(const struct bvlc *m)
{
	char hub[18];

	if (m->id != g.connect_id) {
		fail(1, "Connect-Accept carries message id 0x%04x, the Connect-Request had 0x%04x",
		     m->id, g.connect_id);
		return;
	}
	if (m->payload_len != CONNECT_PAYLOAD_LEN) {
		fail(1, "Connect-Accept payload is %zu octets, expected %d", m->payload_len,
		     CONNECT_PAYLOAD_LEN);
		return;
	}
	vmac_text(m->payload, hub);
	note("Connect-Accept: hub VMAC %s, max BVLC %u, max NPDU %u", hub,
	     get16(m->payload + 22), get16(m->payload + 24));
	g.state = ST_CONNECTED;
	out_line("connected");
	g.t_greet = now_ms() + opt.send_delay_ms;
	if (!opt.send_delay_ms)
		send_greetings();
}

static void on_npdu(const struct bvlc *m)
{
	static char text[4 * RX_CAP + 1];
	char orig[18];

	if (!m->orig) {
		fail(1, "Encapsulated-NPDU (id 0x%04x) from the hub has no Originating Virtual "
		     "Address", m->id);
		return;
	}
	vmac_text(m->orig, orig);
	payload_text(m->payload, m->payload_len, text, sizeof(text));
	out_line("npdu %s %s", orig, text);

	if (m->payload_len >= 5 && !memcmp(m->payload, "ping:", 5)) {
		uint8_t reply[TX_CAP];
		size_t n = m->payload_len - 5;

		if (n + 5 > sizeof(reply) - 16) {
			fail(1, "ping payload too long to answer (%zu octets)", m->payload_len);
			return;
		}
		memcpy(reply, "pong:", 5);
		memcpy(reply + 5, m->payload + 5, n);
		queue_msg(BVLC_ENCAPSULATED_NPDU, take_id(), m->orig, reply, n + 5, AFTER_NOTHING);
	} else if (m->payload_len == 3 && !memcmp(m->payload, "bye", 3) && !g.bye_seen) {
		g.bye_seen = true;
		g.state = ST_DISCONNECTING;
		g.disc_id = take_id();
		/* The 2 s start when the request is written (AFTER_START_DISC); this is a cap. */
		g.t_disc_deadline = now_ms() + DISCONNECT_ACK_WAIT_MS + 1000;
		queue_msg(BVLC_DISCONNECT_REQUEST, g.disc_id, NULL, NULL, 0, AFTER_START_DISC);
	}
}

static void on_message(const uint8_t *b, size_t len)
{
	struct bvlc m;
	const char *err = decode(b, len, &m);

	if (err) {
		fail(1, "undecodable BVLC-SC message from the hub (%s), %zu octets", err, len);
		return;
	}
	note("rx function 0x%02x flags 0x%02x id 0x%04x, %zu octets", m.function, m.flags, m.id,
	     len);

	if (g.state == ST_WAIT_ACCEPT) {
		if (m.function == BVLC_CONNECT_ACCEPT) {
			on_connect_accept(&m);
		} else if (m.function == BVLC_RESULT && m.payload_len >= 7 &&
			   m.payload[0] == BVLC_CONNECT_REQUEST && m.payload[1] == 1) {
			fail(1, "the hub refused the Connect-Request: NAK error class %u code %u%s%.*s",
			     get16(m.payload + 3), get16(m.payload + 5),
			     m.payload_len > 7 ? ", details: " : "", (int)(m.payload_len - 7),
			     (const char *)m.payload + 7);
		} else {
			warn("ignoring function 0x%02x while waiting for Connect-Accept", m.function);
		}
		return;
	}
	if (g.state == ST_CLOSING)
		return;

	switch (m.function) {
	case BVLC_ENCAPSULATED_NPDU:
		on_npdu(&m);
		break;
	case BVLC_HEARTBEAT_REQUEST:
		queue_msg(BVLC_HEARTBEAT_ACK, m.id, NULL, NULL, 0, AFTER_NOTHING);
		break;
	case BVLC_DISCONNECT_REQUEST:
		if (g.state == ST_HUB_DISCONNECT)
			break;
		g.state = ST_HUB_DISCONNECT;
		g.t_close_deadline = now_ms() + CLOSE_WAIT_MS;
		queue_msg(BVLC_DISCONNECT_ACK, m.id, NULL, NULL, 0, AFTER_CLOSE);
		break;
	case BVLC_DISCONNECT_ACK:
		if (g.state == ST_DISCONNECTING && m.id == g.disc_id) {
			note("Disconnect-ACK received");
			request_close(LWS_CLOSE_STATUS_NORMAL, CLOSE_WAIT_MS);
			break;
		}
		out_line("other %02x", m.function);
		break;
	default:
		out_line("other %02x", m.function);
		break;
	}
}

static int on_receive(struct lws *wsi, const void *in, size_t len)
{
	if (!lws_frame_is_binary(wsi)) {
		/* Std AB.7.5.3, as BACnet Stack does: non-binary data -> close 1003. */
		fail_status(1, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
			    "the hub sent a non-binary WebSocket data frame");
		return 0;
	}
	if (g.rx_len + len > RX_CAP) {
		fail_status(1, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			    "a WebSocket message from the hub is longer than %d octets", RX_CAP);
		return 0;
	}
	if (g.failing || g.state == ST_CLOSING)
		return 0;
	memcpy(g.rx + g.rx_len, in, len);
	g.rx_len += len;
	if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
		size_t n = g.rx_len;

		g.rx_len = 0;
		on_message(g.rx, n);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* handshake checks                                                                     */

/* LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: the 101 arrived; headers are readable. */
static int check_handshake(struct lws *wsi)
{
	char proto[128];
	SSL *ssl = lws_get_ssl(wsi);

	if (lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) <= 0) {
		fail(1, "WebSocket upgrade: the hub did not echo Sec-WebSocket-Protocol "
		     "(expected %s)", HUB_SUBPROTOCOL);
		return -1;
	}
	if (strcmp(proto, HUB_SUBPROTOCOL)) {
		fail(1, "WebSocket upgrade: the hub chose subprotocol '%s', expected %s", proto,
		     HUB_SUBPROTOCOL);
		return -1;
	}
	if (!ssl) {
		fail(1, "no TLS session on the connection");
		return -1;
	}
	if (SSL_version(ssl) != TLS1_3_VERSION) {
		fail(1, "TLS version is %s, BACnet/SC needs TLSv1.3", SSL_get_version(ssl));
		return -1;
	}
	if (opt.verbose) {
		const unsigned char *alpn = NULL;
		unsigned alpn_len = 0;

		SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
		note("TLS %s, cipher %s, ALPN offered '%s', ALPN selected %s%.*s%s",
		     SSL_get_version(ssl), SSL_get_cipher_name(ssl), opt.alpn,
		     alpn_len ? "'" : "(none)", (int)alpn_len, alpn ? (const char *)alpn : "",
		     alpn_len ? "'" : "");
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* lws glue                                                                             */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	(void)user;

	if (g.destroying)
		return 0;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		g.wsi = NULL;
		fail(1, "could not connect to %s (TCP, TLS or WebSocket upgrade failed): %s",
		     opt.url, in ? (const char *)in : "(libwebsockets gave no reason)");
		break;

	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		return check_handshake(wsi);

	case LWS_CALLBACK_CLIENT_ESTABLISHED: {
		uint8_t payload[CONNECT_PAYLOAD_LEN];

		g.wsi = wsi;
		g.state = ST_WAIT_ACCEPT;
		g.t_accept_deadline = now_ms() + CONNECT_ACCEPT_WAIT_MS;
		memcpy(payload, opt.vmac, VMAC_LEN);
		memcpy(payload + VMAC_LEN, g.uuid, UUID_LEN);
		put16(payload + 22, OUR_MAX_BVLC);
		put16(payload + 24, OUR_MAX_NPDU);
		g.connect_id = take_id();
		queue_msg(BVLC_CONNECT_REQUEST, g.connect_id, NULL, payload, sizeof(payload),
			  AFTER_NOTHING);
		break;
	}

	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(wsi, in, len);

	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(wsi);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (in && len >= 2)
			g.peer_close_status = get16(in);
		else
			g.peer_close_status = 1005;  /* no status */
		note("the hub sent a Close frame, status %d", g.peer_close_status);
		break;

	case LWS_CALLBACK_CLIENT_CLOSED:
		g.wsi = NULL;
		if (g.failing) {
			stop();
		} else if (g.state == ST_CLOSING) {
			finish_ok();
		} else if (g.state == ST_HUB_DISCONNECT) {
			if (!g.hub_ack_written)
				warn("the hub closed before our Disconnect-ACK went out");
			finish_ok();
		} else if (g.state == ST_DISCONNECTING) {
			fail(1, "the hub closed the connection (close status %d) before it sent "
			     "Disconnect-ACK", g.peer_close_status);
		} else if (g.peer_close_status) {
			fail(1, "the hub closed the WebSocket (close status %d)",
			     g.peer_close_status);
		} else {
			fail(1, "the connection to the hub was lost");
		}
		break;

	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	/* name, callback, per-session data size, rx buffer size, id, user, tx packet size */
	{ HUB_SUBPROTOCOL, callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* BACnet Stack's idle policy: ping after 3 s quiet, hang up after 10 s quiet. */
static const lws_retry_bo_t retry_policy = {
	.secs_since_valid_ping = 3,
	.secs_since_valid_hangup = 10,
};

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	int64_t t = now_ms();

	if (g.failing) {
		if (t >= g.t_close_deadline)
			stop();  /* the closing handshake did not finish; leave anyway */
	} else if (!g.finished) {
		if (!g.bye_seen && g.state != ST_HUB_DISCONNECT && g.state != ST_CLOSING &&
		    t - g.t_start >= (int64_t)opt.timeout_s * 1000) {
			fail_status(2, LWS_CLOSE_STATUS_GOINGAWAY, "timeout: no 'bye' within %d s",
				    opt.timeout_s);
		} else if (g.state == ST_CONNECTING &&
			   t - g.t_start >= (LWS_CONNECT_TIMEOUT_S + 2) * 1000) {
			fail(1, "could not connect to %s within %d s", opt.url,
			     LWS_CONNECT_TIMEOUT_S + 2);
		} else if (g.state == ST_WAIT_ACCEPT && t >= g.t_accept_deadline) {
			fail(1, "no Connect-Accept within %d s", CONNECT_ACCEPT_WAIT_MS / 1000);
		} else if (g.state == ST_CONNECTED && !g.greetings_queued && t >= g.t_greet) {
			send_greetings();
		} else if (g.state == ST_DISCONNECTING && t >= g.t_disc_deadline) {
			fail(1, "no Disconnect-ACK within %d s", DISCONNECT_ACK_WAIT_MS / 1000);
		} else if ((g.state == ST_CLOSING || g.state == ST_HUB_DISCONNECT) &&
			   t >= g.t_close_deadline) {
			warn("the WebSocket closing handshake did not finish within %d s",
			     CLOSE_WAIT_MS / 1000);
			finish_ok();
		}
	}
	if (!g.finished)
		lws_sul_schedule(g.ctx, 0, sul, tick_cb, TICK_MS * LWS_US_PER_MS);
}

/* ------------------------------------------------------------------------------------ */
/* main                                                                                 */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sc_node_lws --url wss://HOST:PORT/PATH --ca CA.pem --cert NODE.pem\n"
		"                   --key NODE.key --vmac XX:XX:XX:XX:XX:XX --peer XX:XX:XX:XX:XX:XX\n"
		"                   --name NAME [--timeout SECONDS] [--allow-selfsigned]\n"
		"                   [--send-delay MS] [--fix-path]"
		" [--alpn LIST] [--verbose]\n"
		"\n"
		"A BACnet/SC node on libwebsockets, set up like BACnet Stack's datalink. It\n"
		"connects to the hub, prints 'connected', sends 'hello from NAME' to --peer and\n"
		"'broadcast from NAME' to everyone, prints 'sent', then prints\n"
		"'npdu ORIG_VMAC PAYLOAD' for each NPDU, answers 'ping:X' with 'pong:X', and on\n"
		"'bye' disconnects, prints 'disconnected' and exits 0. Other functions print\n"
		"'other FF' (two hex digits). Exit 1 on errors, 2 when --timeout (default 20)\n"
		"seconds pass before 'bye'.\n"
		"  --send-delay MS  wait MS milliseconds after Connect-Accept before the two\n"
		"               greetings (default 0). A unicast to a VMAC that is not connected yet\n"
		"               is dropped by the hub, so two nodes started together only both see\n"
		"               the other's greetings if both connect before either sends.\n"
		"  --allow-selfsigned  add LCCSCF_ALLOW_SELFSIGNED as BACnet Stack does: accept a\n"
		"               self-signed hub certificate or a chain with any self-signed root\n"
		"               (default: trust --ca only)\n"
		"  --fix-path   send the URL path with its leading '/' (BACnet Stack on lws 4.1\n"
		"               drops it for any path other than '/')\n"
		"  --alpn LIST  test only: replace BACnet Stack's ALPN field \"" BACNET_STACK_ALPN "\"\n"
		"               (lws splits LIST on commas)\n"
		"  --verbose    TLS/ALPN details and libwebsockets info logs on stderr\n");
}

static bool parse_args(int argc, char **argv)
{
	opt.timeout_s = 20;
	opt.alpn = BACNET_STACK_ALPN;
	bool have_vmac = false, have_peer = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **target = NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--allow-selfsigned")) {
			opt.allow_selfsigned = true;
			continue;
		} else if (!strcmp(a, "--fix-path")) {
			opt.fix_path = true;
			continue;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			opt.verbose = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "sc_node_lws: error: option %s needs a value\n", a);
			return false;
		}
		const char *v = argv[++i];

		if (!strcmp(a, "--url"))
			target = &opt.url;
		else if (!strcmp(a, "--ca"))
			target = &opt.ca;
		else if (!strcmp(a, "--cert"))
			target = &opt.cert;
		else if (!strcmp(a, "--key"))
			target = &opt.key;
		else if (!strcmp(a, "--name"))
			target = &opt.name;
		else if (!strcmp(a, "--alpn"))
			target = &opt.alpn;
		else if (!strcmp(a, "--vmac")) {
			if (!parse_vmac(v, opt.vmac)) {
				fprintf(stderr, "sc_node_lws: error: bad --vmac '%s'\n", v);
				return false;
			}
			have_vmac = true;
		} else if (!strcmp(a, "--peer")) {
			if (!parse_vmac(v, opt.peer)) {
				fprintf(stderr, "sc_node_lws: error: bad --peer '%s'\n", v);
				return false;
			}
			have_peer = true;
		} else if (!strcmp(a, "--send-delay")) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*end || t < 0 || t > 600000) {
				fprintf(stderr, "sc_node_lws: error: bad --send-delay '%s'\n", v);
				return false;
			}
			opt.send_delay_ms = (int)t;
		} else if (!strcmp(a, "--timeout")) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*end || t <= 0 || t > 86400) {
				fprintf(stderr, "sc_node_lws: error: bad --timeout '%s'\n", v);
				return false;
			}
			opt.timeout_s = (int)t;
		} else {
			fprintf(stderr, "sc_node_lws: error: unknown option %s\n", a);
			usage(stderr);
			return false;
		}
		if (target)
			*target = v;
	}
	if (!opt.url || !opt.ca || !opt.cert || !opt.key || !opt.name || !have_vmac ||
	    !have_peer) {
		fprintf(stderr, "sc_node_lws: error: --url, --ca, --cert, --key, --vmac, --peer "
			"and --name are required\n");
		usage(stderr);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	uint8_t *ca_pem, *cert_pem, *key_pem;
	size_t ca_len, cert_len, key_len;
	char url[512], path[512];
	const char *prot = NULL, *addr = NULL, *upath = NULL;
	int port = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!parse_args(argc, argv))
		return 1;

	if (strlen(opt.url) >= sizeof(url)) {
		fprintf(stderr, "sc_node_lws: error: --url is too long\n");
		return 1;
	}
	strcpy(url, opt.url);
	if (lws_parse_uri(url, &prot, &addr, &port, &upath) || !prot || !addr || !upath ||
	    port <= 0 || strcmp(prot, "wss")) {
		fprintf(stderr, "sc_node_lws: error: --url must look like wss://HOST:PORT/PATH, "
			"got '%s'\n", opt.url);
		return 1;
	}
	if (opt.fix_path && upath[0] != '/') {
		snprintf(path, sizeof(path), "/%s", upath);
		upath = path;
	}

	ca_pem = read_file(opt.ca, &ca_len);
	cert_pem = read_file(opt.cert, &cert_len);
	key_pem = read_file(opt.key, &key_len);
	if (!ca_pem || !cert_pem || !key_pem) {
		fprintf(stderr, "sc_node_lws: error: cannot read %s: %s\n",
			!ca_pem ? opt.ca : !cert_pem ? opt.cert : opt.key, strerror(errno));
		return 1;
	}
	if (!random_bytes(g.uuid, sizeof(g.uuid)) ||
	    !random_bytes(&g.next_id, sizeof(g.next_id))) {
		fprintf(stderr, "sc_node_lws: error: getrandom failed: %s\n", strerror(errno));
		return 1;
	}

	lws_set_log_level(opt.verbose ? (LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO)
				      : (LLL_ERR | LLL_WARN), NULL);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.client_ssl_cert_mem = cert_pem;
	info.client_ssl_cert_mem_len = (unsigned)cert_len;
	info.client_ssl_key_mem = private_key_block(key_pem, &key_len);
	info.client_ssl_key_mem_len = (unsigned)key_len;
	info.client_ssl_ca_mem = ca_pem;
	info.client_ssl_ca_mem_len = (unsigned)ca_len;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		       LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;  /* ours: trust --ca only */
	/* ours: TLS 1.3 only (BACnet/SC, Std AB.7.4) */
	info.ssl_client_options_set = (long)(SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
					     SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2);
	info.timeout_secs = LWS_CONNECT_TIMEOUT_S;
	info.connect_timeout_secs = LWS_CONNECT_TIMEOUT_S;

	g.ctx = lws_create_context(&info);
	if (!g.ctx) {
		fprintf(stderr, "sc_node_lws: error: libwebsockets could not create its context "
			"(bad certificate or key in %s / %s / %s?)\n", opt.cert, opt.key, opt.ca);
		return 1;
	}

	g.t_start = now_ms();
	g.state = ST_CONNECTING;
	lws_sul_schedule(g.ctx, 0, &g.tick, tick_cb, TICK_MS * LWS_US_PER_MS);

	memset(&ci, 0, sizeof(ci));
	ci.context = g.ctx;
	ci.address = addr;
	ci.host = addr;
	ci.origin = addr;
	ci.port = port;
	ci.path = upath;
	ci.alpn = opt.alpn;
	ci.protocol = HUB_SUBPROTOCOL;
	ci.retry_and_idle_policy = &retry_policy;
	ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	if (opt.allow_selfsigned)
		ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED;
	ci.pwsi = &g.wsi;
	note("connecting to %s:%d path '%s' ALPN field '%s'", addr, port, upath, opt.alpn);

	if (!lws_client_connect_via_info(&ci) && !g.finished)
		fail(1, "could not start the connection to %s", opt.url);

	while (!g.finished) {
		if (lws_service(g.ctx, 0) < 0) {
			fail(1, "libwebsockets service loop failed");
			break;
		}
	}

	g.destroying = true;
	lws_sul_cancel(&g.tick);
	lws_context_destroy(g.ctx);
	free(ca_pem);
	free(cert_pem);
	free(key_pem);
	fflush(stdout);
	return g.exit_code;
}
