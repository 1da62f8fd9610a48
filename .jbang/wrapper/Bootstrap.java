import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Installs the pinned JBang for the ./jbang wrapper when no jbang is on the PATH.
 *
 * Runs as a single-file program on any JDK 17+: {@code java Bootstrap.java DEPS_FILE TARGET_DIR}.
 * Each jar listed in DEPS_FILE is taken from the local Maven repository (~/.m2) when it is there
 * with the right sha256, else downloaded from Maven Central (or $JBANG_WRAPPER_REPOSITORY), and
 * checked. The jars land in TARGET_DIR only when all of them are complete and verified, so an
 * interrupted bootstrap never leaves a half installation behind.
 */
public class Bootstrap {

    public static void main(String[] args) throws Exception {
        Path depsFile = Path.of(args[0]);
        Path target = Path.of(args[1]);
        String repository = System.getenv().getOrDefault("JBANG_WRAPPER_REPOSITORY",
                "https://repo1.maven.org/maven2");
        Path localRepository = Path.of(System.getProperty("user.home"), ".m2", "repository");

        List<String[]> jars = Files.readAllLines(depsFile).stream()
                .filter(line -> !line.isBlank() && !line.startsWith("#"))
                .map(line -> line.trim().split("\\s+", 2))
                .toList();

        Files.createDirectories(target.getParent());
        Path staging = Files.createTempDirectory(target.getParent(), target.getFileName() + ".incomplete-");
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        System.err.println("Installing JBang into " + target + " (" + jars.size() + " jars from " + repository + ") ...");
        try {
            for (String[] jar : jars) {
                String sha256 = jar[0], path = jar[1];
                Path out = staging.resolve(Path.of(path).getFileName());
                Path local = localRepository.resolve(path);
                if (Files.isRegularFile(local) && sha256.equals(sha256(local))) {
                    Files.copy(local, out);
                    continue;
                }
                HttpResponse<InputStream> response = http.send(
                        HttpRequest.newBuilder(URI.create(repository + "/" + path)).timeout(Duration.ofMinutes(2)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP " + response.statusCode() + " for " + repository + "/" + path);
                }
                try (InputStream body = response.body()) {
                    Files.copy(body, out);
                }
                if (!sha256.equals(sha256(out))) {
                    throw new IOException("checksum mismatch for " + path);
                }
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException alreadyThere) {
                if (!Files.isDirectory(target)) throw alreadyThere; // another wrapper finished first
                deleteTree(staging);
            }
        } catch (IOException | InterruptedException e) {
            deleteTree(staging);
            System.err.println("jbang: could not install JBang (" + e.getMessage() + "). "
                    + "Install JBang yourself (https://www.jbang.dev/download) or make Maven Central reachable.");
            System.exit(1);
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
