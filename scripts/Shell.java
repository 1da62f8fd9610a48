///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION JShell with the playground's library ready: `import llm.*;` is done, try Tokenizers.load("gpt2").
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java

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
