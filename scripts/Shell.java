///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION JShell with the playground's library ready: `import llm.*;` is done, try Tokenizers.load("gpt2").
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/Attention.java
//SOURCES ../lib/llm/Vectors.java
//SOURCES ../lib/llm/BagOfWords.java
//SOURCES ../lib/llm/Corpus.java
//SOURCES ../lib/llm/Word2Vec.java
//SOURCES ../lib/llm/WordVectors.java
//SOURCES ../lib/llm/ElmanRnn.java
//SOURCES ../lib/llm/MaskedLanguageModeling.java
//SOURCES ../lib/llm/GptSizes.java
//SOURCES ../lib/llm/ModelSizes.java
//SOURCES ../lib/llm/Heatmap.java
//SOURCES ../lib/llm/SparseAttention.java
//SOURCES ../lib/llm/SequencePacking.java
//SOURCES ../lib/llm/MixtureOfExperts.java
//SOURCES ../lib/llm/Phi3.java
//SOURCES ../lib/llm/Generation.java
//SOURCES ../lib/llm/Sampler.java
//SOURCES ../lib/llm/ChatTemplate.java
//SOURCES ../lib/llm/TextStreamer.java
//SOURCES ../lib/llm/LessonModel.java
//SOURCES ../lib/llm/LogitLens.java

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens JShell (from the same JDK) with this script's class path, which JBang made from the lib
 * files listed above and their dependencies, so learners can poke at the library interactively.
 */
void main(String[] args) throws Exception {
    boolean windows = System.getProperty("os.name").toLowerCase().startsWith("windows");
    Path jshell = Path.of(System.getProperty("java.home"), "bin", windows ? "jshell.exe" : "jshell");
    Path startup = Files.createTempFile("playground", ".jsh");
    startup.toFile().deleteOnExit();
    Files.writeString(startup, "import llm.*;\n");

    List<String> command = new ArrayList<>(List.of(jshell.toString(),
            "--class-path", System.getProperty("java.class.path"),
            "--add-modules", "jdk.incubator.vector",
            "-R--enable-native-access=ALL-UNNAMED",
            "--startup", "DEFAULT", "--startup", startup.toString()));
    command.addAll(List.of(args));
    System.exit(new ProcessBuilder(command).inheritIO().start().waitFor());
}
