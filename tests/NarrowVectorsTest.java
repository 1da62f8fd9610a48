import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernels have a path for 512-bit vectors and one for any other width (AVX2 laptops have 256 bits,
 * Apple's and other ARM chips 128). This machine would only ever run the first, so TensorTypesTest runs
 * again in a JVM limited to narrower vectors, where FloatTensor picks the smaller species.
 */
class NarrowVectorsTest {

    @ParameterizedTest
    @ValueSource(ints = {32, 16})
    void tensorKernelsPassWithNarrowerVectors(int maxVectorBytes) throws Exception {
        String limit = "-XX:MaxVectorSize=" + maxVectorBytes;
        assertEquals("preferred vector bits: " + 8 * maxVectorBytes, run(limit, "NarrowVectorsTest").strip());
        String output = run(limit, "RunTests", "TensorTypesTest");
        assertTrue(output.matches("(?s).*\\n[1-9][0-9]* passed, 0 failed.*"), output);
    }

    /** The child JVM's side of the first check. */
    public static void main(String[] args) {
        System.out.println("preferred vector bits: " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }

    private static String run(String option, String... mainAndArgs) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments()); // the lib's //RUNTIME_OPTIONS
        command.addAll(List.of(option, "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(mainAndArgs));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .replaceAll("WARNING: Using incubator modules: jdk.incubator.vector\\R", "");
        assertEquals(0, process.waitFor(), output);
        return output;
    }
}
