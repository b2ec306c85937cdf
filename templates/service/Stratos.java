import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * halab's stand-in for the Apache Stratos server of the reference article: an
 * HTTP service whose answer names the node serving it, so that a client
 * probing the virtual IP sees which node holds it.
 *
 * <pre>
 *   java -cp lib/classes Stratos [port]   (Java 7 and later; default 8080)
 *   java Stratos.java [port]              (JDK 11+ source-launch mode)
 *   GET /        the node's short hostname and a newline
 *   GET /health  "ok"
 * </pre>
 *
 * The source keeps to the Java 7 language and API (no lambdas, no
 * Path.of): halab compiles it with javac --release 7, so that the
 * article's JDK 7u60 runs it.
 */
public final class Stratos {
    private static final int THREADS = 4;

    public static void main(String[] args) throws IOException {
        int port = 8080;
        if (args.length > 0) {
            try {
                port = Integer.parseInt(args[0]);
            } catch (NumberFormatException e) {
                System.err.println("usage: java Stratos.java [port]");
                System.exit(2);
            }
        }
        String host = shortHostname();
        HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 64);
        server.createContext("/", new Handler(host));
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        server.setExecutor(pool);
        // TERM (the init script's stop) runs the hooks: close the listening
        // socket at once rather than let clients of a stopping node hang.
        Runtime.getRuntime().addShutdownHook(new Shutdown(server, pool));
        server.start();
        System.out.println("stratos stand-in on " + host + " listening on 0.0.0.0:" + port);
    }

    /** Answers GET / with the node's name and GET /health with "ok". */
    private static final class Handler implements HttpHandler {
        private final byte[] hostBody;
        private final byte[] okBody = "ok".getBytes(StandardCharsets.UTF_8);
        private final byte[] notFound = "not found\n".getBytes(StandardCharsets.UTF_8);

        Handler(String host) {
            hostBody = (host + "\n").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void handle(HttpExchange exchange) throws IOException {
            switch (exchange.getRequestURI().getPath()) {
                case "/":
                    respond(exchange, 200, hostBody);
                    break;
                case "/health":
                    respond(exchange, 200, okBody);
                    break;
                default:
                    respond(exchange, 404, notFound);
            }
        }
    }

    /** Stops the server and its threads when the JVM is asked to exit. */
    private static final class Shutdown extends Thread {
        private final HttpServer server;
        private final ExecutorService pool;

        Shutdown(HttpServer server, ExecutorService pool) {
            this.server = server;
            this.pool = pool;
        }

        @Override
        public void run() {
            server.stop(0);
            pool.shutdownNow();
        }
    }

    private static void respond(HttpExchange exchange, int code, byte[] body) throws IOException {
        // HttpExchange is AutoCloseable only from JDK 18 on.
        try {
            String method = exchange.getRequestMethod();
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            if ("HEAD".equals(method)) {
                exchange.sendResponseHeaders(code, -1);
                return;
            }
            if (!"GET".equals(method)) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            exchange.sendResponseHeaders(code, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } finally {
            exchange.close();
        }
    }

    /**
     * The kernel's node name (what uname -n and the cluster call the node),
     * cut to its first label. Resolving the local host can stall or fail in
     * containers, so that is only the last resort.
     */
    private static String shortHostname() {
        String name = readFirstLine("/proc/sys/kernel/hostname");
        if (name.isEmpty()) {
            name = readFirstLine("/etc/hostname");
        }
        if (name.isEmpty()) {
            try {
                name = InetAddress.getLocalHost().getHostName().trim();
            } catch (IOException e) {
                name = "unknown";
            }
        }
        int dot = name.indexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String readFirstLine(String path) {
        try {
            List<String> lines = Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8);
            return lines.isEmpty() ? "" : lines.get(0).trim();
        } catch (IOException | RuntimeException e) {
            return ""; // the caller tries the next source
        }
    }
}
