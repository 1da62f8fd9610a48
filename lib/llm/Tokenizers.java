//SOURCES Tokenizer.java
//SOURCES TokenizerException.java
//SOURCES Hub.java
//SOURCES HubException.java
//FILES llm/tokenizers/bert-base-cased/tokenizer.json.gz=tokenizers/bert-base-cased/tokenizer.json.gz
//FILES llm/tokenizers/bert-base-uncased/tokenizer.json.gz=tokenizers/bert-base-uncased/tokenizer.json.gz
//FILES llm/tokenizers/Xenova--gpt-4/tokenizer.json.gz=tokenizers/Xenova--gpt-4/tokenizer.json.gz
//FILES llm/tokenizers/gpt2/tokenizer.json.gz=tokenizers/gpt2/tokenizer.json.gz
//FILES llm/tokenizers/google--flan-t5-small/tokenizer.json.gz=tokenizers/google--flan-t5-small/tokenizer.json.gz
//FILES llm/tokenizers/microsoft--Phi-3-mini-4k-instruct/tokenizer.json.gz=tokenizers/microsoft--Phi-3-mini-4k-instruct/tokenizer.json.gz
package llm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * Finds a tokenizer by Hugging Face model id or by path, in this order:
 * a local file or folder; the tokenizers shipped with the playground; the local Hugging Face
 * cache; the Hugging Face Hub (unless {@code HF_HUB_OFFLINE=1}).
 */
public final class Tokenizers {

    /** The tokenizers the course compares, in the course's order. */
    public static final List<String> COURSE = List.of(
            "bert-base-cased",
            "bert-base-uncased",
            "Xenova/gpt-4",
            "gpt2",
            "google/flan-t5-small",
            "bigcode/starcoder2-15b",
            "microsoft/Phi-3-mini-4k-instruct",
            "Qwen/Qwen2-VL-7B-Instruct");

    /** Phi-3's tokenizer, used by the model lessons. */
    public static final String PHI3 = "microsoft/Phi-3-mini-4k-instruct";

    private Tokenizers() {}

    /** Loads a tokenizer, downloading it only when it is neither shipped nor cached. */
    public static Tokenizer load(String nameOrPath) {
        return load(nameOrPath, Hub.fromEnvironment(), null);
    }

    public static Tokenizer load(String nameOrPath, Hub hub, Hub.Listener progress) {
        if (nameOrPath == null || nameOrPath.isBlank()) throw new TokenizerException("no tokenizer named");
        Path path = Path.of(nameOrPath);
        if (looksLikePath(nameOrPath) || Files.exists(path)) return fromPath(nameOrPath, path);

        Optional<byte[]> shipped = shipped(nameOrPath);
        if (shipped.isPresent()) {
            return Tokenizer.fromJson(nameOrPath, Tokenizer.Source.SHIPPED, shipped.get(), nameOrPath + " (shipped tokenizer.json)");
        }
        Optional<Path> cached = hub.cached(nameOrPath, "tokenizer.json", "main");
        if (cached.isPresent()) {
            return Tokenizer.fromJson(nameOrPath, Tokenizer.Source.CACHE, read(cached.get()), cached.get().toString());
        }
        try {
            Path downloaded = hub.download(nameOrPath, "tokenizer.json", "main", progress);
            return Tokenizer.fromJson(nameOrPath, Tokenizer.Source.HUB, read(downloaded), downloaded.toString());
        } catch (HubException e) {
            throw new TokenizerException(nameOrPath + ": not available (not shipped with the playground; " + e.getMessage()
                    + "). A local tokenizer.json also works: give its path instead of the id.");
        }
    }

    /** Whether the playground ships this tokenizer (so it works offline). */
    public static boolean isShipped(String id) {
        return Tokenizers.class.getResource(resourceName(id)) != null;
    }

    private static Tokenizer fromPath(String name, Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file + ": no such file (give a tokenizer.json, or a folder that has one)");
        }
        return Tokenizer.fromJson(name, Tokenizer.Source.PATH, read(file), file.toString());
    }

    private static Optional<byte[]> shipped(String id) {
        try (InputStream in = Tokenizers.class.getResourceAsStream(resourceName(id))) {
            if (in == null) return Optional.empty();
            try (InputStream json = new GZIPInputStream(in, 1 << 16)) {
                return Optional.of(json.readAllBytes());
            }
        } catch (IOException e) {
            throw new TokenizerException(id + ": could not read the shipped tokenizer.json (" + e.getMessage() + ")");
        }
    }

    /**
     * Shipped files sit in folders named like the Hub's cache does it: "owner/name" becomes "owner--name".
     * They are gzipped: JBang reads every {@code //FILES} entry on each launch, and a third of the bytes
     * starts the lesson faster.
     */
    private static String resourceName(String id) {
        return "/llm/tokenizers/" + id.replace("/", "--") + "/tokenizer.json.gz";
    }

    private static boolean looksLikePath(String s) {
        return s.endsWith(".json") || s.startsWith(".") || s.startsWith("/") || s.startsWith("~") || s.contains("\\");
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
