import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Rewrites a jar's class files older than Java 6 (version 50) as Java 8 ones (52) with stack maps: the JVM leaves
 * old class files out of an AOT cache (JEP 483: "Old class has been linked"), and picocli ships Java 5 class files,
 * so without this every command loads, verifies (with the old inference verifier) and interprets picocli from its jar.
 * The bytecode is unchanged but for the stack maps, which the class-file API computes. A class it cannot rewrite is
 * copied as it is. Usage: java UpgradeClassFiles.java IN.jar OUT.jar [CLASSPATH-JAR...] (the extra jars resolve
 * the superclasses the stack maps name). Run by bin/aot-cache, for bin/strata and bin/dist alike.
 */
public final class UpgradeClassFiles {
  public static void main(String[] args) throws IOException {
    Path in = Path.of(args[0]);
    Path out = Path.of(args[1]);
    URL[] urls = new URL[args.length - 1];
    urls[0] = in.toUri().toURL();
    for (int i = 2; i < args.length; i++) urls[i - 1] = Path.of(args[i]).toUri().toURL();
    int upgraded = 0;
    int kept = 0;
    try (URLClassLoader loader = new URLClassLoader(urls, null);
        JarFile jar = new JarFile(in.toFile());
        JarOutputStream jos = new JarOutputStream(Files.newOutputStream(out))) {
      ClassFile cf = ClassFile.of(
          ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
          ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
              .orElse(ClassHierarchyResolver.ofResourceParsing(loader)).cached()));
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        JarEntry entry = e.nextElement();
        byte[] bytes;
        try (InputStream is = jar.getInputStream(entry)) {
          bytes = is.readAllBytes();
        }
        JarEntry copy = new JarEntry(entry.getName());
        copy.setTime(entry.getTime());
        if (entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/") && bytes.length > 8
            && ((bytes[6] & 0xff) << 8 | (bytes[7] & 0xff)) < 50) {
          try {
            ClassModel cm = cf.parse(bytes);
            bytes = cf.transformClass(cm, ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                .andThen((cb, ce) -> {
                  if (ce instanceof ClassFileVersion) cb.withVersion(ClassFile.JAVA_8_VERSION, 0);
                  else cb.with(ce);
                }));
            upgraded++;
          } catch (RuntimeException ex) {
            kept++;
            System.err.println("UpgradeClassFiles: " + entry.getName() + " kept as it is: " + ex);
          }
        }
        jos.putNextEntry(copy);
        jos.write(bytes);
        jos.closeEntry();
      }
    }
    System.err.println("UpgradeClassFiles: " + in.getFileName() + ": " + upgraded + " classes upgraded, " + kept + " kept");
  }
}
