package support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/** The checkout the tests run in, and a way to run its ./jbang wrapper as a user would. */
public final class Repo {

    private Repo() {}

    /** The repository root: the nearest folder above the working directory that has jbang-catalog.json. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("jbang-catalog.json"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("run the tests from inside the checkout (no jbang-catalog.json above " + Path.of("").toAbsolutePath() + ")");
        return dir;
    }

    /** The bytes of a shipped tokenizer.json (stored gzipped in lib/llm/tokenizers/FOLDER/). */
    public static byte[] shippedTokenizerJson(String folder) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(root().resolve("lib/llm/tokenizers/" + folder + "/tokenizer.json.gz")))) {
            return in.readAllBytes();
        }
    }

    /** What a finished command printed, and its exit code. */
    public record Result(int exitCode, String stdout, String stderr) {
        public String all() { return stdout + stderr; }

        /** stderr without JBang's own "[jbang] Building jar..." lines, which only a first run prints. */
        public List<String> errorLines() {
            return stderr.lines().filter(line -> !line.startsWith("[jbang] ")).toList();
        }
    }

    /**
     * Runs {@code ./jbang ARGS} in the checkout with stdin from {@code stdin} (null: empty), extra
     * environment variables, and a time limit. The Hugging Face cache and endpoint are always
     * redirected so that no test can reach the network: HF_HUB_OFFLINE=1 unless the caller sets
     * HF_ENDPOINT itself.
     */
    public static Result jbang(Map<String, String> env, byte[] stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(root().resolve("jbang").toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(root().toFile());
        builder.environment().remove("NO_COLOR");
        builder.environment().putIfAbsent("HF_HOME", System.getProperty("java.io.tmpdir") + "/playground-test-hf-home");
        if (!env.containsKey("HF_ENDPOINT")) builder.environment().put("HF_HUB_OFFLINE", "1");
        builder.environment().putAll(env);
        try {
            Process process = builder.start();
            CompletableFuture<String> out = drain(process.getInputStream());
            CompletableFuture<String> err = drain(process.getErrorStream());
            try (var in = process.getOutputStream()) {
                if (stdin != null) in.write(stdin);
            }
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: ./jbang " + String.join(" ", args));
            }
            return new Result(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static Result jbang(String... args) {
        return jbang(Map.of(), null, args);
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
    }
}
