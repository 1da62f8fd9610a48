import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import support.Repo;
import support.Repo.Result;

/**
 * `jbang tokenizers@owner/repo` runs the script from a URL: JBang fetches it, and every //SOURCES
 * and //FILES it names, over HTTP. Here the checkout itself is served on 127.0.0.1 to prove that
 * the script and the lib need nothing but what those lines name.
 */
class RemoteRunTest {

    @Test
    void theTokenizerScriptRunsFromAnHttpUrl() throws IOException {
        Path root = Repo.root().toRealPath();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            Path file = root.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
            try (exchange; OutputStream body = exchange.getResponseBody()) {
                if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, Files.size(file));
                Files.copy(file, body);
            }
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        try {
            Result trust = Repo.jbang("trust", "add", base);
            assertEquals(0, trust.exitCode(), trust.all());
            Result run = Repo.jbang(Map.of("NO_COLOR", "1"), null,
                    base + "scripts/Lesson05_Tokenizers.java", "--model", "gpt2", "--model", "bert-base-cased", "Hello World!");
            assertEquals(0, run.exitCode(), run.all());
            assertTrue(run.stdout().contains("== gpt2\nVocabulary length: 50257\nHello| World|!\n"), run.stdout());
            assertTrue(run.stdout().contains("== bert-base-cased\nVocabulary length: 28996\n[CLS]|Hello|World|!|[SEP]\n"), run.stdout());
        } finally {
            Repo.jbang("trust", "remove", base);
            server.stop(0);
        }
    }
}
