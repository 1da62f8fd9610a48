//SOURCES Hub.java
//SOURCES HubException.java
package llm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds a Phi-3 GGUF file from what the learner typed after {@code --model}: a local path; a short
 * name of one of Microsoft's official files ({@code q4}, {@code fp16}); or {@code owner/repo/file.gguf}
 * on the Hugging Face Hub. Hub files come from the local Hugging Face cache when they are there,
 * else they are downloaded into it.
 */
public final class ModelFiles {

    /** The official GGUF conversion of Phi-3-mini-4k-instruct. */
    public static final String PHI3_REPO = "microsoft/Phi-3-mini-4k-instruct-gguf";
    /** Its 4-bit file (a Q4_K_M mix, 2.2 GB): the default model. */
    public static final String PHI3_Q4 = "Phi-3-mini-4k-instruct-q4.gguf";
    /** Its 16-bit file (7.6 GB). */
    public static final String PHI3_FP16 = "Phi-3-mini-4k-instruct-fp16.gguf";

    /** A file in a Hub repository. */
    public record HubFile(String repoId, String filename) {
        public String url(Hub hub) {
            return hub.resolveUrl(repoId, filename, "main").toString();
        }
    }

    private ModelFiles() {}

    /** The Hub file a name stands for, or empty when the name is a local path. */
    public static Optional<HubFile> hubFile(String name) {
        if (name == null || name.equals("q4") || name.equals(PHI3_Q4)) return Optional.of(new HubFile(PHI3_REPO, PHI3_Q4));
        if (name.equals("fp16") || name.equals(PHI3_FP16)) return Optional.of(new HubFile(PHI3_REPO, PHI3_FP16));
        String[] parts = name.split("/");
        if (parts.length == 3 && !Files.exists(Path.of(name)) && !name.startsWith(".") && parts[2].endsWith(".gguf")) {
            return Optional.of(new HubFile(parts[0] + "/" + parts[1], parts[2]));
        }
        return Optional.empty();
    }

    /** The model file, if it is here already (a local path, or in the Hugging Face cache). */
    public static Optional<Path> local(String name, Hub hub) {
        Optional<HubFile> hubFile = hubFile(name);
        if (hubFile.isEmpty()) return Optional.of(Path.of(name)).filter(Files::isRegularFile);
        return hub.cached(hubFile.get().repoId(), hubFile.get().filename(), "main");
    }

    /**
     * The model file: local, cached, or downloaded now (reporting to {@code progress}). Throws a
     * {@link HubException} whose message says what to download and where when none of that works.
     */
    public static Path resolve(String name, Hub hub, Hub.Listener progress) {
        Optional<HubFile> hubFile = hubFile(name);
        if (hubFile.isEmpty()) {
            Path path = Path.of(name);
            if (!Files.isRegularFile(path)) throw new HubException(name + ": no such model file");
            return path;
        }
        HubFile file = hubFile.get();
        Optional<Path> cached = hub.cached(file.repoId(), file.filename(), "main");
        if (cached.isPresent()) return cached.get();
        try {
            return hub.download(file.repoId(), file.filename(), "main", progress);
        } catch (HubException e) {
            throw new HubException("The model " + file.filename() + " is not on this machine yet, and downloading it failed: "
                    + e.getMessage() + "\nGet it from " + file.url(hub) + " with a browser or `hf download " + file.repoId()
                    + " " + file.filename() + "` (it lands in the Hugging Face cache " + hub.cacheDir() + ", where the"
                    + " playground finds it), or pass a copy you have with --model path/to/" + file.filename() + ".");
        }
    }
}
