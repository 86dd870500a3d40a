package dev.finetune.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.security.Roles;
import dev.finetune.service.diagnostics.DiagnosticsResource;
import jakarta.annotation.security.DenyAll;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every endpoint of a service declares, on its own method, the least role it needs: a new endpoint
 * without one fails the build here (and is refused to everyone at run time, by {@code
 * quarkus.security.jaxrs.deny-unannotated-endpoints}). Each service runs it with a class of its own,
 * whose classes directory (or jar) is scanned with service-runtime's for JAX-RS resources.
 */
public abstract class EndpointRolesContractTest {

    /** Any class of the service: its classes directory (or jar) is scanned. */
    protected abstract Class<?> serviceClass();

    /** An endpoint: its resource class and method, for the messages. */
    record Endpoint(Class<?> resource, Method method, String httpMethod) {
        @Override
        public String toString() {
            return httpMethod + " " + resource.getSimpleName() + "." + method.getName();
        }
    }

    @Test
    void everyEndpointDeclaresOneKnownRoleOnItsOwnMethod() {
        List<String> missing = new ArrayList<>();
        for (Endpoint e : endpoints()) {
            RolesAllowed roles = e.method().getAnnotation(RolesAllowed.class);
            if (roles == null) {
                missing.add(e + ": no @RolesAllowed (one of " + Roles.all() + ")");
            } else if (roles.value().length != 1
                    || Roles.parse(roles.value()[0]).isEmpty()) {
                missing.add(e + ": @RolesAllowed" + Arrays.toString(roles.value()) + " must name exactly one of "
                        + Roles.all() + " (a role includes the lesser ones)");
            }
            if (e.method().isAnnotationPresent(PermitAll.class)
                    || e.resource().isAnnotationPresent(PermitAll.class)
                    || e.resource().isAnnotationPresent(RolesAllowed.class)
                    || e.resource().isAnnotationPresent(DenyAll.class)) {
                missing.add(e + ": roles are declared per method, never for a whole class or as @PermitAll");
            }
        }
        assertThat(missing).as("endpoints without their own role").isEmpty();
    }

    @Test
    void onlyReadsAreOpenToViewers() {
        List<String> writable = new ArrayList<>();
        for (Endpoint e : endpoints()) {
            RolesAllowed roles = e.method().getAnnotation(RolesAllowed.class);
            if (roles != null
                    && !e.httpMethod().equals(HttpMethod.GET)
                    && List.of(roles.value()).contains(Roles.VIEWER)) {
                writable.add(e + " changes something but allows " + Roles.VIEWER);
            }
        }
        assertThat(writable).isEmpty();
    }

    @Test
    void theScanFindsTheServicesEndpointsAndTheSharedOnes() {
        List<Endpoint> found = endpoints();
        assertThat(found).anyMatch(e -> e.resource() == DiagnosticsResource.class);
        assertThat(found)
                .as("endpoints of the service itself, in %s", location(serviceClass()))
                .anyMatch(e ->
                        e.resource().getPackageName().startsWith(serviceClass().getPackageName()));
        assertThat(found).anyMatch(e -> e.httpMethod().equals(GET.class.getSimpleName()));
    }

    /** Every resource method (an HTTP-method annotation) or sub-resource locator of the scanned classes. */
    List<Endpoint> endpoints() {
        List<Endpoint> endpoints = new ArrayList<>();
        for (Class<?> type : resourceClasses()) {
            for (Method method : type.getDeclaredMethods()) {
                String httpMethod = httpMethod(method);
                if (httpMethod != null) {
                    endpoints.add(new Endpoint(type, method, httpMethod));
                } else if (method.isAnnotationPresent(Path.class)) {
                    endpoints.add(new Endpoint(type, method, "LOCATOR")); // a sub-resource locator needs a role too
                }
            }
        }
        return endpoints;
    }

    private static String httpMethod(Method method) {
        return Arrays.stream(method.getAnnotations())
                .map(a -> a.annotationType().getAnnotation(HttpMethod.class))
                .filter(java.util.Objects::nonNull)
                .map(HttpMethod::value)
                .findFirst()
                .orElse(null);
    }

    private List<Class<?>> resourceClasses() {
        List<Class<?>> resources = new ArrayList<>();
        for (Class<?> anchor : List.of(serviceClass(), DiagnosticsResource.class)) {
            for (String name : classNames(location(anchor))) {
                try {
                    Class<?> type = Class.forName(name, false, anchor.getClassLoader());
                    if (type.isAnnotationPresent(Path.class)) {
                        resources.add(type);
                    }
                } catch (ClassNotFoundException | LinkageError e) {
                    throw new IllegalStateException("cannot load " + name + " to check its endpoints", e);
                }
            }
        }
        return resources;
    }

    private static URI location(Class<?> type) {
        try {
            return type.getProtectionDomain().getCodeSource().getLocation().toURI();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The class names under a classes directory or in a jar. */
    private static List<String> classNames(URI location) {
        java.nio.file.Path path = java.nio.file.Path.of(location);
        try {
            if (Files.isDirectory(path)) {
                return classNames(path);
            }
            try (FileSystem jar = FileSystems.newFileSystem(path, Map.of())) {
                return classNames(jar.getPath("/"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("scanning " + path + " for endpoints", e);
        }
    }

    private static List<String> classNames(java.nio.file.Path root) throws IOException {
        try (Stream<java.nio.file.Path> files = Files.walk(root)) {
            return files.map(f -> root.relativize(f).toString().replace('\\', '/'))
                    .filter(f -> f.endsWith(".class") && !f.contains("$") && !f.startsWith("META-INF"))
                    .map(f -> f.substring(0, f.length() - ".class".length()).replace('/', '.'))
                    .toList();
        }
    }
}
