/*
 * ScNode: a BACnet/SC "interop node" for bschub, written against the JDK only
 * (java.net.http WebSocket over JSSE), the way Java-based BACnet supervisors connect.
 *
 *   java -Djdk.internal.httpclient.disableHostnameVerification=true ScNode.java \
 *        --url wss://127.0.0.1:PORT/ --ca CA.pem --cert NODE.pem --key NODE.key \
 *        --vmac 02:00:00:00:00:0a --peer 02:00:00:00:00:0b --name java [--timeout 20]
 *
 * or, compiled:  javac -d OUT ScNode.java && java -cp OUT ScNode ARGS
 * Self-test of the BVLC-SC codec (no hub):  java ScNode.java --selftest
 * SCNODE_DEBUG=1 in the environment traces TLS details and every BVLC message on stderr.
 *
 * Contract (shared with the C, Node.js and Python interop nodes):
 *   connect (TLS 1.3, client certificate, trust only --ca, no host-name check, subprotocol
 *   hub.bsc.bacnet.org) -> Connect-Request / Connect-Accept -> "connected";
 *   unicast "hello from NAME" to --peer, broadcast "broadcast from NAME" -> "sent";
 *   then: "npdu ORIG PAYLOAD" per Encapsulated-NPDU ("ping:X" is answered with "pong:X",
 *   "bye" disconnects and exits 0), Heartbeat-Request -> Heartbeat-ACK, a Disconnect-Request
 *   from the hub -> Disconnect-ACK, "disconnected", exit 0; anything else "other FN".
 *   Exit 1 on any failure, 2 when --timeout seconds pass before "bye".
 *
 * Byte layouts: ASHRAE 135 Annex AB (BVLC-SC); all numbers big-endian.
 */

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;

public final class ScNode {

    // ---- protocol constants ----------------------------------------------------------------

    static final String SUBPROTOCOL = "hub.bsc.bacnet.org";

    static final int F_RESULT = 0x00;
    static final int F_NPDU = 0x01;
    static final int F_CONNECT_REQUEST = 0x06;
    static final int F_CONNECT_ACCEPT = 0x07;
    static final int F_DISCONNECT_REQUEST = 0x08;
    static final int F_DISCONNECT_ACK = 0x09;
    static final int F_HEARTBEAT_REQUEST = 0x0A;
    static final int F_HEARTBEAT_ACK = 0x0B;

    static final int FLAG_ORIG = 0x08;
    static final int FLAG_DEST = 0x04;
    static final int FLAG_DEST_OPTS = 0x02;
    static final int FLAG_DATA_OPTS = 0x01;

    static final int OPT_MORE = 0x80;
    static final int OPT_HAS_DATA = 0x20;

    static final int MAX_BVLC = 1600;
    static final int MAX_NPDU = 1497;
    static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    /** Reassembly cap for one WebSocket message (well above our announced max BVLC). */
    static final int MAX_MESSAGE = 64 * 1024;

    static final long CONNECT_ACCEPT_WAIT_MS = 5_000;
    static final long DISCONNECT_ACK_WAIT_MS = 2_000;
    static final long CLOSE_WAIT_MS = 2_000;
    static final long SEND_WAIT_MS = 5_000;
    static final long OPENING_HANDSHAKE_MS = 10_000;

    static final PrintStream OUT =
            new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    static final boolean DEBUG = System.getenv("SCNODE_DEBUG") != null
            && !System.getenv("SCNODE_DEBUG").isEmpty();

    // ---- entry point ---------------------------------------------------------------------

    public static void main(String[] args) {
        int rc;
        try {
            if (args.length == 1 && args[0].equals("--selftest")) {
                rc = SelfTest.run();
            } else {
                rc = new ScNode(Options.parse(args)).run();
            }
        } catch (Failure f) {
            System.err.println("ScNode: " + f.getMessage());
            rc = f.exitCode;
        } catch (Throwable t) {
            System.err.println("ScNode: unexpected error: " + chain(t));
            if (DEBUG) {
                t.printStackTrace();
            }
            rc = 1;
        }
        OUT.flush();
        System.err.flush();
        // exit() rather than returning: the HttpClient's selector thread is not a daemon.
        System.exit(rc);
    }

    /** A failure with a one-sentence message and the exit code to use. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        Failure(String message) {
            this(message, 1);
        }

        Failure(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    static void out(String line) {
        OUT.println(line);
        OUT.flush();
    }

    static void debug(String line) {
        if (DEBUG) {
            System.err.println("debug: " + line);
            System.err.flush();
        }
    }

    /** "Type: message / caused by: Type: message ..." for an exception and its causes. */
    static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Set<Throwable> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        String last = null;
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            // Skip pure wrappers whose message only repeats the cause.
            if ((c instanceof ExecutionException || c instanceof CompletionException)
                    && c.getCause() != null) {
                continue;
            }
            String part = c.getClass().getSimpleName()
                    + (c.getMessage() != null ? ": " + c.getMessage() : "");
            // JSSE repeats a cause's text inside its own message: print it once.
            if (part.equals(last) || (c.getMessage() != null && sb.indexOf(c.getMessage()) >= 0)) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(" / caused by: ");
            }
            sb.append(part);
            last = part;
        }
        return sb.toString();
    }

    // ---- command line --------------------------------------------------------------------

    static final class Options {
        URI url;
        Path ca;
        Path cert;
        Path key;
        byte[] vmac;
        byte[] peer;
        String name;
        double timeoutSeconds = 20;

        static final String USAGE = "usage: ScNode --url wss://HOST:PORT/ --ca CA.pem "
                + "--cert NODE.pem --key NODE.key --vmac XX:XX:XX:XX:XX:XX "
                + "--peer XX:XX:XX:XX:XX:XX --name NAME [--timeout SECONDS]";

        static Options parse(String[] args) throws Failure {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                } else if (a.equals("-h") || a.equals("--help")) {
                    out(USAGE);
                    throw new Failure("no run requested (--help)", 1);
                } else {
                    if (i + 1 >= args.length) {
                        throw new Failure("option " + a + " needs a value; " + USAGE);
                    }
                    v = args[++i];
                }
                switch (a) {
                    case "--url":
                        try {
                            o.url = new URI(v);
                        } catch (URISyntaxException e) {
                            throw new Failure("--url is not a valid URI: " + e.getMessage());
                        }
                        if (!"wss".equalsIgnoreCase(o.url.getScheme())) {
                            throw new Failure("--url must be a wss:// URL, got " + v);
                        }
                        break;
                    case "--ca": o.ca = Path.of(v); break;
                    case "--cert": o.cert = Path.of(v); break;
                    case "--key": o.key = Path.of(v); break;
                    case "--vmac": o.vmac = parseVmac("--vmac", v); break;
                    case "--peer": o.peer = parseVmac("--peer", v); break;
                    case "--name": o.name = v; break;
                    case "--timeout":
                        try {
                            o.timeoutSeconds = Double.parseDouble(v);
                        } catch (NumberFormatException e) {
                            throw new Failure("--timeout must be a number of seconds, got " + v);
                        }
                        if (!(o.timeoutSeconds > 0)) {
                            throw new Failure("--timeout must be positive, got " + v);
                        }
                        break;
                    default:
                        throw new Failure("unknown option " + a + "; " + USAGE);
                }
            }
            List<String> missing = new ArrayList<>();
            if (o.url == null) missing.add("--url");
            if (o.ca == null) missing.add("--ca");
            if (o.cert == null) missing.add("--cert");
            if (o.key == null) missing.add("--key");
            if (o.vmac == null) missing.add("--vmac");
            if (o.peer == null) missing.add("--peer");
            if (o.name == null) missing.add("--name");
            if (!missing.isEmpty()) {
                throw new Failure("missing " + String.join(", ", missing) + "; " + USAGE);
            }
            return o;
        }

        static byte[] parseVmac(String opt, String text) throws Failure {
            String hex = text.replace(":", "").replace("-", "");
            try {
                if (hex.length() == 12) {
                    return HexFormat.of().parseHex(hex);
                }
            } catch (IllegalArgumentException e) {
                // fall through
            }
            throw new Failure(opt + " must be 6 octets like 02:00:00:00:00:0a, got " + text);
        }
    }

    // ---- BVLC-SC codec ---------------------------------------------------------------------

    /** A decoded BVLC-SC message; orig/dest are null when absent. Options are skipped. */
    record Bvlc(int function, int flags, int msgId, byte[] orig, byte[] dest, byte[] payload) {
    }

    static final class DecodeException extends Exception {
        private static final long serialVersionUID = 1L;

        DecodeException(String m) {
            super(m);
        }
    }

    static byte[] encode(int function, int msgId, byte[] orig, byte[] dest, byte[] payload) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int flags = (orig != null ? FLAG_ORIG : 0) | (dest != null ? FLAG_DEST : 0);
        b.write(function);
        b.write(flags);
        b.write(msgId >> 8);
        b.write(msgId);
        if (orig != null) {
            b.writeBytes(orig);
        }
        if (dest != null) {
            b.writeBytes(dest);
        }
        if (payload != null) {
            b.writeBytes(payload);
        }
        return b.toByteArray();
    }

    static byte[] connectRequest(int msgId, byte[] vmac, byte[] uuid, int maxBvlc, int maxNpdu) {
        ByteBuffer p = ByteBuffer.allocate(26);
        p.put(vmac).put(uuid).putShort((short) maxBvlc).putShort((short) maxNpdu);
        return encode(F_CONNECT_REQUEST, msgId, null, null, p.array());
    }

    static byte[] npdu(int msgId, byte[] dest, byte[] data) {
        return encode(F_NPDU, msgId, null, dest, data);
    }

    static byte[] bare(int function, int msgId) {
        return encode(function, msgId, null, null, null);
    }

    static Bvlc decode(byte[] b) throws DecodeException {
        if (b.length < 4) {
            throw new DecodeException("shorter than 4 octets");
        }
        int fn = b[0] & 0xFF;
        int flags = b[1] & 0xFF;
        int id = ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
        int off = 4;
        byte[] orig = null;
        byte[] dest = null;
        if ((flags & FLAG_ORIG) != 0) {
            if (off + 6 > b.length) {
                throw new DecodeException("originating VMAC cut short");
            }
            orig = Arrays.copyOfRange(b, off, off + 6);
            off += 6;
        }
        if ((flags & FLAG_DEST) != 0) {
            if (off + 6 > b.length) {
                throw new DecodeException("destination VMAC cut short");
            }
            dest = Arrays.copyOfRange(b, off, off + 6);
            off += 6;
        }
        if ((flags & FLAG_DEST_OPTS) != 0) {
            off = skipOptions(b, off);
        }
        if ((flags & FLAG_DATA_OPTS) != 0) {
            off = skipOptions(b, off);
        }
        return new Bvlc(fn, flags, id, orig, dest, Arrays.copyOfRange(b, off, b.length));
    }

    /** Walks one header-option list; returns the offset after it. */
    static int skipOptions(byte[] b, int off) throws DecodeException {
        while (true) {
            if (off >= b.length) {
                throw new DecodeException("header option list cut short");
            }
            int marker = b[off++] & 0xFF;
            if ((marker & OPT_HAS_DATA) != 0) {
                if (off + 2 > b.length) {
                    throw new DecodeException("header option length cut short");
                }
                int n = ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
                off += 2;
                if (off + n > b.length) {
                    throw new DecodeException("header option data cut short");
                }
                off += n;
            }
            if ((marker & OPT_MORE) == 0) {
                return off;
            }
        }
    }

    static String vmacText(byte[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", v[i] & 0xFF));
        }
        return sb.toString();
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static String fnHex(int fn) {
        return String.format("%02x", fn);
    }

    static String errorCodeName(int code) {
        switch (code) {
            case 0: return "OTHER";
            case 7: return "INCONSISTENT_PARAMETERS";
            case 45: return "OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED";
            case 80: return "PARAMETER_OUT_OF_RANGE";
            case 113: return "MESSAGE_TOO_LONG";
            case 133: return "OUT_OF_MEMORY";
            case 143: return "BVLC_FUNCTION_UNKNOWN";
            case 144: return "BVLC_PROPRIETARY_FUNCTION_UNKNOWN";
            case 145: return "HEADER_ENCODING_ERROR";
            case 146: return "HEADER_NOT_UNDERSTOOD";
            case 147: return "MESSAGE_INCOMPLETE";
            case 148: return "NOT_A_BACNET_SC_HUB";
            case 149: return "PAYLOAD_EXPECTED";
            case 150: return "UNEXPECTED_DATA";
            case 151: return "NODE_DUPLICATE_VMAC";
            default: return "code " + code;
        }
    }

    /** Human-readable BVLC-Result, e.g. "NAK for function 06: class 7, NODE_DUPLICATE_VMAC". */
    static String describeResult(byte[] p) {
        if (p.length < 2) {
            return "BVLC-Result with a " + p.length + "-octet payload";
        }
        String forFn = "function " + fnHex(p[0] & 0xFF);
        if (p[1] == 0) {
            return "ACK for " + forFn;
        }
        if (p.length < 7) {
            return "NAK for " + forFn + " (truncated: " + hex(p) + ")";
        }
        int cls = ((p[3] & 0xFF) << 8) | (p[4] & 0xFF);
        int code = ((p[5] & 0xFF) << 8) | (p[6] & 0xFF);
        String details = new String(p, 7, p.length - 7, StandardCharsets.UTF_8);
        return "NAK for " + forFn + ": error class " + cls + ", " + errorCodeName(code)
                + " (" + code + ")" + (details.isEmpty() ? "" : ", \"" + details + "\"");
    }

    // ---- WebSocket plumbing ------------------------------------------------------------------

    /** What the listener hands to the main thread. */
    sealed interface Event permits Binary, Text, Closed, Failed {
    }

    record Binary(byte[] data) implements Event {
    }

    record Text(String text) implements Event {
    }

    record Closed(int status, String reason) implements Event {
    }

    record Failed(Throwable error) implements Event {
    }

    /**
     * java.net.http delivers a message in parts (onBinary(..., last)); they are joined here and
     * each complete message is queued. Pings are answered with Pongs by the JDK itself.
     */
    static final class Listener implements WebSocket.Listener {
        final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
        private final StringBuilder text = new StringBuilder();
        private boolean tooBig;

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            int n = data.remaining();
            if (binary.size() + n > MAX_MESSAGE) {
                tooBig = true;
            } else {
                byte[] part = new byte[n];
                data.get(part);
                binary.writeBytes(part);
            }
            if (last) {
                if (tooBig) {
                    events.add(new Failed(new IOException(
                            "the hub sent a binary message larger than " + MAX_MESSAGE + " octets")));
                } else {
                    events.add(new Binary(binary.toByteArray()));
                }
                binary.reset();
                tooBig = false;
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            if (text.length() < MAX_MESSAGE) {
                text.append(data);
            }
            if (last) {
                events.add(new Text(text.toString()));
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            // Returning null: the JDK answers the Close with the same status at once.
            events.add(new Closed(status, reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            events.add(new Failed(error));
        }
    }

    // ---- the node --------------------------------------------------------------------------

    private final Options opt;
    private final Listener listener = new Listener();
    private final SecureRandom random = new SecureRandom();
    private WebSocket ws;
    private int nextId;
    private long deadline; // System.nanoTime() by which "bye" must have arrived

    ScNode(Options opt) {
        this.opt = opt;
        this.nextId = random.nextInt(0x10000);
    }

    private int newId() {
        int id = nextId;
        nextId = (nextId + 1) & 0xFFFF;
        return id;
    }

    private long msLeft() {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private Failure timedOut(String waitingFor) {
        return new Failure("timed out after " + opt.timeoutSeconds + " s (--timeout) while "
                + waitingFor, 2);
    }

    int run() throws Failure {
        deadline = System.nanoTime() + (long) (opt.timeoutSeconds * 1e9);
        Tls tls = Tls.build(opt.ca, opt.cert, opt.key);
        connect(tls);
        bvlcConnect();
        out("connected");

        send(npdu(newId(), opt.peer, ("hello from " + opt.name).getBytes(StandardCharsets.UTF_8)),
                "the unicast Encapsulated-NPDU");
        send(npdu(newId(), BROADCAST, ("broadcast from " + opt.name).getBytes(StandardCharsets.UTF_8)),
                "the broadcast Encapsulated-NPDU");
        out("sent");

        while (true) {
            Event ev = next(msLeft());
            if (ev == null) {
                ws.abort();
                throw timedOut("waiting for \"bye\"");
            }
            Bvlc m = expectBinary(ev, "before \"bye\"");
            switch (m.function()) {
                case F_NPDU: {
                    String from = m.orig() != null ? vmacText(m.orig()) : "-";
                    String text = new String(m.payload(), StandardCharsets.UTF_8);
                    out("npdu " + from + " " + text);
                    if (text.startsWith("ping:")) {
                        if (m.orig() == null) {
                            throw new Failure("got \"" + text + "\" with no Originating Virtual "
                                    + "Address, so there is nobody to answer");
                        }
                        send(npdu(newId(), m.orig(), ("pong:" + text.substring(5))
                                .getBytes(StandardCharsets.UTF_8)), "the pong");
                    } else if (text.equals("bye")) {
                        disconnect();
                        out("disconnected");
                        return 0;
                    }
                    break;
                }
                case F_HEARTBEAT_REQUEST:
                    send(bare(F_HEARTBEAT_ACK, m.msgId()), "Heartbeat-ACK");
                    break;
                case F_DISCONNECT_REQUEST:
                    send(bare(F_DISCONNECT_ACK, m.msgId()), "Disconnect-ACK");
                    awaitHubClose();
                    out("disconnected");
                    return 0;
                default:
                    if (m.function() == F_RESULT) {
                        debug("BVLC-Result: " + describeResult(m.payload()));
                    }
                    out("other " + fnHex(m.function()));
            }
        }
    }

    /** TLS + WebSocket opening handshake. */
    private void connect(Tls tls) throws Failure {
        SSLParameters params = tls.context.getDefaultSSLParameters();
        params.setProtocols(new String[] {"TLSv1.3"});
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(tls.context)
                .sslParameters(params)
                .connectTimeout(Duration.ofMillis(OPENING_HANDSHAKE_MS))
                .build();
        long wait = Math.min(OPENING_HANDSHAKE_MS, msLeft());
        CompletableFuture<WebSocket> cf = client.newWebSocketBuilder()
                .subprotocols(SUBPROTOCOL)
                .connectTimeout(Duration.ofMillis(Math.max(1, wait)))
                .buildAsync(opt.url, listener);
        try {
            ws = cf.get(wait + 1_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            cf.cancel(true);
            if (msLeft() == 0) {
                throw timedOut("opening the WebSocket to " + opt.url);
            }
            throw new Failure("no TLS/WebSocket handshake with " + opt.url + " within "
                    + wait + " ms" + tls.keyManager.hint());
        } catch (ExecutionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            String what = "the TLS/WebSocket handshake with " + opt.url + " failed";
            if (c instanceof WebSocketHandshakeException) {
                var r = ((WebSocketHandshakeException) c).getResponse();
                what = "the WebSocket upgrade to " + opt.url + " failed (hub answered HTTP "
                        + r.statusCode() + ", headers " + r.headers().map() + ")";
            }
            boolean tlsError = false;
            boolean untrusted = false;
            for (Throwable t = c; t != null; t = t.getCause()) {
                tlsError |= t instanceof javax.net.ssl.SSLException;
                untrusted |= t instanceof java.security.cert.CertPathBuilderException
                        || t instanceof java.security.cert.CertPathValidatorException
                        || t instanceof CertificateException;
            }
            String msg = what + ": " + chain(c);
            if (untrusted) {
                msg += " (the hub's certificate does not check out against --ca " + opt.ca + ")";
            }
            if (tlsError) {
                msg += tls.keyManager.hint();
            } else if (tls.trustManager.serverChecked) {
                // TLS 1.3: the client's side of the handshake is over before the hub has
                // judged our certificate, so a refusal arrives as an alert after it, and
                // java.net.http reports only the closed channel. A plain SSLSocket shows it.
                msg += "; the TLS handshake had reached the hub's certificate, and a second "
                        + "TLS connection to find out why gives: " + Tls.probe(tls.context, opt.url);
            } else {
                // java.net.http reports a refused TCP connect as a bare ConnectException
                // caused by ClosedChannelException; a plain socket names the real reason.
                msg += "; a plain TCP connect to find out why gives: " + Tls.tcpProbe(opt.url);
            }
            throw new Failure(msg);
        } catch (InterruptedException e) {
            throw new Failure("interrupted while connecting");
        }
        if (!SUBPROTOCOL.equals(ws.getSubprotocol())) {
            ws.abort();
            throw new Failure("the hub did not select subprotocol " + SUBPROTOCOL
                    + " (got \"" + ws.getSubprotocol() + "\")");
        }
        debug("WebSocket open, subprotocol " + ws.getSubprotocol());
    }

    /** Connect-Request, then wait (5 s max) for Connect-Accept. */
    private void bvlcConnect() throws Failure {
        byte[] uuid = new byte[16];
        random.nextBytes(uuid);
        int id = newId();
        send(connectRequest(id, opt.vmac, uuid, MAX_BVLC, MAX_NPDU), "Connect-Request");
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_ACCEPT_WAIT_MS);
        while (true) {
            long left = Math.min(msLeft(),
                    Math.max(0, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            Event ev = next(left);
            if (ev == null) {
                ws.abort();
                if (msLeft() == 0) {
                    throw timedOut("waiting for Connect-Accept");
                }
                throw new Failure("no Connect-Accept within " + CONNECT_ACCEPT_WAIT_MS + " ms");
            }
            Bvlc m = expectBinary(ev, "before Connect-Accept");
            if (m.function() == F_CONNECT_ACCEPT) {
                byte[] p = m.payload();
                if (p.length != 26) {
                    throw new Failure("Connect-Accept payload is " + p.length
                            + " octets, expected 26");
                }
                if (m.msgId() != id) {
                    System.err.println("ScNode: warning: Connect-Accept has message id "
                            + m.msgId() + ", the Connect-Request had " + id);
                }
                ByteBuffer bb = ByteBuffer.wrap(p);
                debug("Connect-Accept: hub VMAC " + vmacText(Arrays.copyOfRange(p, 0, 6))
                        + ", hub UUID " + hex(Arrays.copyOfRange(p, 6, 22))
                        + ", max BVLC " + (bb.getShort(22) & 0xFFFF)
                        + ", max NPDU " + (bb.getShort(24) & 0xFFFF));
                return;
            }
            if (m.function() == F_RESULT && m.payload().length >= 2
                    && (m.payload()[0] & 0xFF) == F_CONNECT_REQUEST) {
                ws.abort();
                throw new Failure("the hub refused the Connect-Request: "
                        + describeResult(m.payload()));
            }
            System.err.println("ScNode: warning: ignoring BVLC function " + fnHex(m.function())
                    + " that arrived before Connect-Accept");
        }
    }

    /** On "bye": Disconnect-Request, Disconnect-ACK (2 s max), Close 1000. */
    private void disconnect() throws Failure {
        int id = newId();
        send(bare(F_DISCONNECT_REQUEST, id), "Disconnect-Request");
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DISCONNECT_ACK_WAIT_MS);
        boolean acked = false;
        boolean hubClosed = false;
        while (!acked && !hubClosed) {
            long left = Math.max(0, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()));
            Event ev = next(left);
            if (ev == null) {
                break;
            }
            if (ev instanceof Closed c) {
                hubClosed = true;
                debug("hub closed the WebSocket with status " + c.status() + " before the ACK");
                break;
            }
            Bvlc m = expectBinary(ev, "while waiting for Disconnect-ACK");
            if (m.function() == F_DISCONNECT_ACK) {
                if (m.msgId() != id) {
                    System.err.println("ScNode: warning: Disconnect-ACK has message id "
                            + m.msgId() + ", the Disconnect-Request had " + id);
                }
                acked = true;
            } else if (m.function() == F_HEARTBEAT_REQUEST) {
                send(bare(F_HEARTBEAT_ACK, m.msgId()), "Heartbeat-ACK");
            } else if (m.function() == F_NPDU) {
                out("npdu " + (m.orig() != null ? vmacText(m.orig()) : "-") + " "
                        + new String(m.payload(), StandardCharsets.UTF_8));
            } else {
                out("other " + fnHex(m.function()));
            }
        }
        closeNormally();
        if (!acked) {
            throw new Failure(hubClosed
                    ? "the hub closed the WebSocket without sending Disconnect-ACK"
                    : "no Disconnect-ACK within " + DISCONNECT_ACK_WAIT_MS + " ms");
        }
    }

    /** After we sent Disconnect-ACK the hub closes; answer (the JDK does) or close ourselves. */
    private void awaitHubClose() throws Failure {
        Event ev;
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        while ((ev = next(Math.max(0, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))))
                != null) {
            if (ev instanceof Closed c) {
                debug("hub closed the WebSocket with status " + c.status());
                return;
            }
            if (ev instanceof Failed f) {
                debug("after Disconnect-ACK: " + chain(f.error()));
                return;
            }
        }
        closeNormally();
    }

    /** sendClose(1000, "") and wait (bounded) for the hub's Close reply. */
    private void closeNormally() {
        if (!ws.isOutputClosed()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // Usually "Output closed": the hub's Close came first and the JDK answered it.
                debug("sendClose: " + chain(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        while (!ws.isInputClosed()) {
            long left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
            if (left <= 0) {
                debug("no Close frame from the hub within " + CLOSE_WAIT_MS + " ms");
                break;
            }
            Event ev;
            try {
                ev = next(left);
            } catch (Failure f) {
                break;
            }
            if (ev == null || ev instanceof Closed || ev instanceof Failed) {
                break;
            }
        }
        ws.abort();
    }

    private Event next(long timeoutMs) throws Failure {
        try {
            Event ev = listener.events.poll(Math.max(0, timeoutMs), TimeUnit.MILLISECONDS);
            if (DEBUG && ev instanceof Binary b) {
                debug("recv " + hex(b.data()));
            }
            return ev;
        } catch (InterruptedException e) {
            throw new Failure("interrupted");
        }
    }

    /** Decodes a binary event; a close, error, text frame or bad header is a failure. */
    private Bvlc expectBinary(Event ev, String when) throws Failure {
        if (ev instanceof Closed c) {
            throw new Failure("the hub closed the WebSocket " + when + " (status " + c.status()
                    + (c.reason().isEmpty() ? "" : ", reason \"" + c.reason() + "\"") + ")");
        }
        if (ev instanceof Failed f) {
            ws.abort();
            throw new Failure("the WebSocket failed " + when + ": " + chain(f.error()));
        }
        if (ev instanceof Text t) {
            ws.abort();
            throw new Failure("the hub sent a text message " + when
                    + " (BACnet/SC uses binary messages only): " + t.text());
        }
        byte[] data = ((Binary) ev).data();
        try {
            return decode(data);
        } catch (DecodeException e) {
            ws.abort();
            throw new Failure("the hub sent a malformed BVLC-SC message " + when + " ("
                    + e.getMessage() + "): " + hex(data));
        }
    }

    private void send(byte[] msg, String what) throws Failure {
        debug("send " + hex(msg) + " (" + what + ")");
        try {
            ws.sendBinary(ByteBuffer.wrap(msg), true).get(SEND_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            ws.abort();
            throw new Failure("could not send " + what + ": " + chain(e));
        } catch (TimeoutException e) {
            ws.abort();
            throw new Failure("sending " + what + " did not complete within " + SEND_WAIT_MS + " ms");
        } catch (InterruptedException e) {
            throw new Failure("interrupted while sending " + what);
        }
    }

    // ---- TLS -------------------------------------------------------------------------------

    /**
     * The client SSLContext: our certificate and key in an in-memory PKCS12 key store, the
     * --ca certificate(s) as the only trust anchors, TLS 1.3 only.
     */
    static final class Tls {
        final SSLContext context;
        final NodeKeyManager keyManager;
        final NoHostNameTrustManager trustManager;

        private Tls(SSLContext context, NodeKeyManager keyManager, NoHostNameTrustManager tm) {
            this.context = context;
            this.keyManager = keyManager;
            this.trustManager = tm;
        }

        /**
         * One bounded (3 s) TLS 1.3 connection with a plain SSLSocket: handshake, then read.
         * A hub that refuses our certificate sends its alert here and SSLSocket reports it
         * ("Received fatal alert: ..."). Returns a description of what happened.
         */
        static java.net.InetSocketAddress address(URI url) {
            String host = url.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new java.net.InetSocketAddress(host, url.getPort() == -1 ? 443 : url.getPort());
        }

        /** One bounded (3 s) TCP connect, closed at once. */
        static String tcpProbe(URI url) {
            java.net.InetSocketAddress a = address(url);
            try (Socket s = new Socket()) {
                s.connect(a, 3_000);
                return "TCP to " + a + " connects, so the failure came later";
            } catch (IOException e) {
                return "TCP to " + a + ": " + chain(e);
            }
        }

        static String probe(SSLContext ctx, URI url) {
            try (javax.net.ssl.SSLSocket s =
                         (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket()) {
                s.connect(address(url), 3_000);
                s.setSoTimeout(3_000);
                SSLParameters p = s.getSSLParameters();
                p.setProtocols(new String[] {"TLSv1.3"});
                s.setSSLParameters(p);
                s.startHandshake();
                int r = s.getInputStream().read();
                return r < 0 ? "the hub ended the TLS session right after the handshake, with no alert"
                        : "the hub sent data before any request (unexpected)";
            } catch (java.net.SocketTimeoutException e) {
                return "this time the hub kept the TLS session open for 3 s, so TLS looks fine "
                        + "and the first failure was elsewhere";
            } catch (IOException e) {
                return chain(e);
            }
        }

        static Tls build(Path caFile, Path certFile, Path keyFile) throws Failure {
            List<X509Certificate> cas = Pem.certificates(caFile, "--ca");
            List<X509Certificate> chain = Pem.certificates(certFile, "--cert");
            PrivateKey key = Pem.privateKey(keyFile, chain.get(0));
            checkKeyMatches(key, chain.get(0), certFile, keyFile);
            char[] pass = "interop".toCharArray();
            try {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("node", key, pass, chain.toArray(new X509Certificate[0]));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
                kmf.init(ks, pass);
                X509KeyManager base = null;
                for (KeyManager km : kmf.getKeyManagers()) {
                    if (km instanceof X509KeyManager x) {
                        base = x;
                    }
                }

                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    ts.setCertificateEntry("ca" + i, cas.get(i));
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
                tmf.init(ts);
                X509ExtendedTrustManager pkix = null;
                for (TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509ExtendedTrustManager x) {
                        pkix = x;
                    }
                }
                if (base == null || pkix == null) {
                    throw new Failure("the JDK offered no X.509 key or trust manager");
                }
                NodeKeyManager nkm = new NodeKeyManager(base);
                NoHostNameTrustManager ntm = new NoHostNameTrustManager(pkix);
                SSLContext ctx = SSLContext.getInstance("TLSv1.3");
                ctx.init(new KeyManager[] {nkm}, new TrustManager[] {ntm}, new SecureRandom());
                return new Tls(ctx, nkm, ntm);
            } catch (GeneralSecurityException | IOException e) {
                throw new Failure("could not set up TLS: " + chain(e));
            }
        }

        /** Signs with the key and verifies with the certificate: a clear error beats a TLS alert. */
        static void checkKeyMatches(PrivateKey key, X509Certificate cert, Path certFile,
                                    Path keyFile) throws Failure {
            String alg;
            switch (key.getAlgorithm()) {
                case "EC": alg = "SHA256withECDSA"; break;
                case "RSA": alg = "SHA256withRSA"; break;
                default: return;
            }
            try {
                byte[] probe = "bschub interop key check".getBytes(StandardCharsets.US_ASCII);
                Signature s = Signature.getInstance(alg);
                s.initSign(key);
                s.update(probe);
                byte[] sig = s.sign();
                Signature v = Signature.getInstance(alg);
                v.initVerify(cert.getPublicKey());
                v.update(probe);
                if (!v.verify(sig)) {
                    throw new Failure("the private key in " + keyFile
                            + " does not belong to the certificate in " + certFile);
                }
            } catch (GeneralSecurityException e) {
                throw new Failure("the private key in " + keyFile + " does not fit the certificate in "
                        + certFile + ": " + chain(e));
            }
        }
    }

    /**
     * Host-name checks off, chain checks on.
     *
     * BACnet/SC does no name checks (the hub's certificate need not name its address), but
     * java.net.http turns on endpoint identification ("HTTPS") in the SSLParameters of every
     * connection unless the internal system property
     * jdk.internal.httpclient.disableHostnameVerification is set, and that property is read
     * once, in a static initializer, so it is only dependable on the command line. Rather than
     * rely on an internal property, this wrapper is an X509ExtendedTrustManager (so JSSE does
     * not wrap it with its own identification check, as it does for a plain X509TrustManager)
     * whose SSLEngine/Socket methods call the PKIX trust manager's two-argument form: full
     * chain validation against the --ca anchors (validity, signatures, key usage, serverAuth
     * EKU) with no endpoint identification. So the node works with or without the -D flag.
     */
    static final class NoHostNameTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager pkix;
        /** Set once the hub's certificate chain has passed our checks. */
        volatile boolean serverChecked;

        NoHostNameTrustManager(X509ExtendedTrustManager pkix) {
            this.pkix = pkix;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            if (DEBUG && engine != null) {
                SSLSession s = engine.getHandshakeSession();
                debug("TLS: " + (s != null ? s.getProtocol() + " " + s.getCipherSuite() : "?")
                        + ", ALPN offered " + Arrays.toString(
                                engine.getSSLParameters().getApplicationProtocols())
                        + ", endpoint identification requested by the client: "
                        + engine.getSSLParameters().getEndpointIdentificationAlgorithm()
                        + " (ignored), hub certificate " + chain[0].getSubjectX500Principal());
            }
            pkix.checkServerTrusted(chain, authType);
            serverChecked = true;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
            serverChecked = true;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("this node is a client only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("this node is a client only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw new CertificateException("this node is a client only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }

    /**
     * Delegates to the SunX509 key manager and remembers what the hub's CertificateRequest
     * asked for, so a failed client-certificate choice can be explained. In TLS 1.3 JSSE asks
     * once per signature scheme the hub offered (key types "EC", "RSA", "RSASSA-PSS"...).
     */
    static final class NodeKeyManager extends X509ExtendedKeyManager {
        private final X509KeyManager base;
        private final Set<String> asked = java.util.Collections.synchronizedSet(new LinkedHashSet<>());
        private volatile String chosen;
        private volatile String issuers = "";

        NodeKeyManager(X509KeyManager base) {
            this.base = base;
        }

        private String choose(String[] keyTypes, Principal[] iss, String alias) {
            if (keyTypes != null) {
                asked.addAll(Arrays.asList(keyTypes));
            }
            if (iss != null && iss.length > 0) {
                issuers = Arrays.toString(iss);
            }
            if (alias != null) {
                chosen = alias;
                debug("TLS: client certificate requested; presenting ours for key type "
                        + Arrays.toString(keyTypes));
            }
            return alias;
        }

        /** A sentence to append to handshake errors, or "". */
        String hint() {
            if (chosen != null) {
                return " (our client certificate was sent)";
            }
            if (asked.isEmpty()) {
                return "";
            }
            return " (the hub asked for a client certificate with key types " + asked
                    + (issuers.isEmpty() ? "" : " issued by " + issuers)
                    + ", which ours did not match, so none was sent)";
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine e) {
            return choose(keyType, issuers, base.chooseClientAlias(keyType, issuers, null));
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket s) {
            return choose(keyType, issuers, base.chooseClientAlias(keyType, issuers, s));
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return base.getClientAliases(keyType, issuers);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket s) {
            return null;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine e) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return base.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return base.getPrivateKey(alias);
        }
    }

    // ---- PEM ---------------------------------------------------------------------------------

    static final class Pem {
        private static final Pattern BLOCK = Pattern.compile(
                "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

        record Block(String label, String body) {
        }

        static List<Block> blocks(Path file, String opt) throws Failure {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                throw new Failure("cannot read " + opt + " file " + file + ": " + chain(e));
            }
            List<Block> out = new ArrayList<>();
            Matcher m = BLOCK.matcher(text);
            while (m.find()) {
                out.add(new Block(m.group(1), m.group(2)));
            }
            return out;
        }

        static byte[] der(Block b, Path file) throws Failure {
            try {
                return Base64.getMimeDecoder().decode(b.body().trim());
            } catch (IllegalArgumentException e) {
                throw new Failure("bad base64 in the " + b.label() + " block of " + file);
            }
        }

        static List<X509Certificate> certificates(Path file, String opt) throws Failure {
            List<X509Certificate> certs = new ArrayList<>();
            try {
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                for (Block b : blocks(file, opt)) {
                    if (b.label().equals("CERTIFICATE")) {
                        certs.add((X509Certificate) cf.generateCertificate(
                                new java.io.ByteArrayInputStream(der(b, file))));
                    }
                }
            } catch (CertificateException e) {
                throw new Failure("cannot parse a certificate in " + opt + " file " + file + ": "
                        + chain(e));
            }
            if (certs.isEmpty()) {
                throw new Failure(opt + " file " + file
                        + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            }
            return certs;
        }

        /**
         * PKCS#8 "PRIVATE KEY" as is; SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" are
         * wrapped into PKCS#8 with the AlgorithmIdentifier of the certificate's public key
         * (ecPublicKey + named curve, or rsaEncryption + NULL), which is exactly the PKCS#8
         * AlgorithmIdentifier for that key. Encrypted keys are refused.
         */
        static PrivateKey privateKey(Path file, X509Certificate cert) throws Failure {
            String alg = cert.getPublicKey().getAlgorithm();
            for (Block b : blocks(file, "--key")) {
                byte[] pkcs8;
                switch (b.label()) {
                    case "PRIVATE KEY":
                        pkcs8 = der(b, file);
                        break;
                    case "EC PRIVATE KEY":
                    case "RSA PRIVATE KEY":
                        if (b.body().contains("Proc-Type:")) {
                            throw new Failure("--key file " + file + " is encrypted; give an "
                                    + "unencrypted key (openssl pkey -in KEY -out PLAIN.key)");
                        }
                        if (!alg.equals(b.label().startsWith("EC") ? "EC" : "RSA")) {
                            throw new Failure("--key file " + file + " holds an " + b.label()
                                    + " but the certificate's key is " + alg);
                        }
                        pkcs8 = Der.pkcs8(Der.spkiAlgorithm(cert.getPublicKey().getEncoded()),
                                der(b, file));
                        break;
                    case "ENCRYPTED PRIVATE KEY":
                        throw new Failure("--key file " + file + " is encrypted; give an "
                                + "unencrypted key (openssl pkey -in KEY -out PLAIN.key)");
                    default:
                        continue; // e.g. "EC PARAMETERS" before an EC key
                }
                try {
                    return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
                } catch (GeneralSecurityException e) {
                    throw new Failure("cannot load the " + b.label() + " in " + file + " as an "
                            + alg + " key (the certificate's key type): " + chain(e));
                }
            }
            throw new Failure("--key file " + file + " holds no PEM private key (expected "
                    + "-----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA PRIVATE KEY)");
        }
    }

    /** Just enough DER to re-wrap a traditional key into PKCS#8. */
    static final class Der {
        /** {tag, header length, content length} of the TLV at off. */
        static int[] tl(byte[] b, int off) throws Failure {
            if (off + 2 > b.length) {
                throw new Failure("truncated DER");
            }
            int tag = b[off] & 0xFF;
            int len = b[off + 1] & 0xFF;
            int hdr = 2;
            if (len >= 0x80) {
                int n = len & 0x7F;
                if (n == 0 || n > 3 || off + 2 + n > b.length) {
                    throw new Failure("unsupported DER length");
                }
                len = 0;
                for (int i = 0; i < n; i++) {
                    len = (len << 8) | (b[off + 2 + i] & 0xFF);
                }
                hdr += n;
            }
            if (off + hdr + len > b.length) {
                throw new Failure("truncated DER");
            }
            return new int[] {tag, hdr, len};
        }

        /** The AlgorithmIdentifier TLV at the start of a SubjectPublicKeyInfo. */
        static byte[] spkiAlgorithm(byte[] spki) throws Failure {
            int[] outer = tl(spki, 0);
            int[] alg = tl(spki, outer[1]);
            return Arrays.copyOfRange(spki, outer[1], outer[1] + alg[1] + alg[2]);
        }

        static byte[] tlv(int tag, byte[]... parts) {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            for (byte[] p : parts) {
                content.writeBytes(p);
            }
            int n = content.size();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(tag);
            if (n < 0x80) {
                out.write(n);
            } else if (n < 0x100) {
                out.write(0x81);
                out.write(n);
            } else if (n < 0x10000) {
                out.write(0x82);
                out.write(n >> 8);
                out.write(n);
            } else {
                out.write(0x83);
                out.write(n >> 16);
                out.write(n >> 8);
                out.write(n);
            }
            out.writeBytes(content.toByteArray());
            return out.toByteArray();
        }

        /** PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING key } */
        static byte[] pkcs8(byte[] algorithmIdentifier, byte[] traditionalKey) {
            return tlv(0x30, new byte[] {0x02, 0x01, 0x00}, algorithmIdentifier,
                    tlv(0x04, traditionalKey));
        }
    }

    // ---- self-test ---------------------------------------------------------------------------

    /** Codec check against the protocol test vectors (no hub needed). */
    static final class SelfTest {
        private static int failures;

        static void eq(String name, byte[] got, String wantHex) {
            String g = hex(got).toUpperCase(Locale.ROOT);
            if (!g.equals(wantHex)) {
                failures++;
                System.err.println("selftest " + name + ": got " + g + ", want " + wantHex);
            }
        }

        static void check(String name, boolean ok) {
            if (!ok) {
                failures++;
                System.err.println("selftest " + name + ": failed");
            }
        }

        static byte[] h(String s) {
            return HexFormat.of().parseHex(s);
        }

        static int run() throws Exception {
            byte[] a = h("02A1B2C3D4E5");
            byte[] b = h("12F0E1D2C3B4");
            byte[] npduBytes = h("01040000010C0C000000051955");
            eq("V1", connectRequest(1, a, h("00112233445566778899AABBCCDDEEFF"), 1600, 1497),
                    "0600000102A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9");
            eq("V3", bare(F_HEARTBEAT_REQUEST, 0x0102), "0A000102");
            eq("V4", bare(F_HEARTBEAT_ACK, 0x0102), "0B000102");
            eq("V5", bare(F_DISCONNECT_REQUEST, 0x0203), "08000203");
            eq("V6", bare(F_DISCONNECT_ACK, 0x0203), "09000203");
            eq("V9", npdu(0xB5EC, b, npduBytes), "0104B5EC12F0E1D2C3B401040000010C0C000000051955");
            eq("V13", npdu(0x0010, BROADCAST, npduBytes),
                    "01040010FFFFFFFFFFFF01040000010C0C000000051955");
            String[][] forwarded = {
                {"V10", "0108B5EC02A1B2C3D4E501040000010C0C000000051955"},
                {"V14", "010C001002A1B2C3D4E5FFFFFFFFFFFF01040000010C0C000000051955"},
                {"V16", "0109002002A1B2C3D4E54101040000010C0C000000051955"},
                {"V18", "010B003002A1B2C3D4E53F0006022B01C0FFEE4101040000010C0C000000051955"},
                {"V28", "010BB5EC02A1B2C3D4E5BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955"},
            };
            for (String[] v : forwarded) {
                Bvlc m = decode(h(v[1]));
                check(v[0] + " function", m.function() == F_NPDU);
                check(v[0] + " orig", m.orig() != null && vmacText(m.orig()).equals("02:a1:b2:c3:d4:e5"));
                check(v[0] + " payload", Arrays.equals(m.payload(), npduBytes));
            }
            Bvlc v2 = decode(h("07000001927BF71A96A2FFEEDDCCBBAA99887766554433221100177005D9"));
            check("V2", v2.function() == F_CONNECT_ACCEPT && v2.msgId() == 1
                    && v2.payload().length == 26);
            check("V7", describeResult(decode(h("0000000106010000070097")).payload())
                    .contains("NODE_DUPLICATE_VMAC"));
            try {
                decode(h("0108B5EC02A1B2"));
                check("short orig rejected", false);
            } catch (DecodeException expected) {
                // ok
            }
            if (failures == 0) {
                out("selftest ok");
                return 0;
            }
            return 1;
        }
    }
}
