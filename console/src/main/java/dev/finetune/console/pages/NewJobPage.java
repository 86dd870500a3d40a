package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.services.ServiceErrorException;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import dev.finetune.security.Roles;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The form that creates a job. The training-service checks it, as it checks every job: its error
 * (problem details naming the field) is shown next to that field, with what the user typed kept.
 */
@Path("/jobs/new")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class NewJobPage {
    /** The hyperparameters the form offers, by their HF/TRL names; empty ones take the recipe's defaults. */
    static final List<String> HYPERPARAMETERS = List.of("learning_rate", "num_train_epochs", "max_steps");

    /** The training-service's fine-tuning methods. */
    static final List<String> METHODS = List.of("lora", "qlora", "full");

    private final Template newjob;
    private final Sessions sessions;
    private final ServiceClient services;

    NewJobPage(@Location("newjob") Template newjob, Sessions sessions, ServiceClient services) {
        this.newjob = newjob;
        this.sessions = sessions;
        this.services = services;
    }

    @GET
    public String form(@CookieParam(SessionCookie.NAME) String id) {
        Session session = sessions.require(id);
        return page(session, Map.of("method", "lora", "objective", "sft"), Map.of())
                .render();
    }

    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response create(@CookieParam(SessionCookie.NAME) String id, MultivaluedMap<String, String> form) {
        Session session = sessions.requireForPost(id, form.getFirst("csrf"), Roles.OPERATOR);
        Map<String, String> values = new LinkedHashMap<>();
        form.forEach((name, list) ->
                values.put(name, list.isEmpty() ? "" : list.get(0).trim()));
        values.remove("csrf");
        try {
            Map<?, ?> job = (Map<?, ?>) services.post(Service.TRAINING, "/api/jobs", request(values), session.apiKey());
            return Response.seeOther(URI.create("/jobs/" + JobsPage.encoded(String.valueOf(job.get("id")))))
                    .build();
        } catch (ServiceErrorException e) {
            if (e.status() >= 500) {
                throw e;
            }
            Map<String, String> errors = Map.of(fieldOf(e, values.keySet()), e.getMessage());
            return Response.status(e.status())
                    .entity(page(session, values, errors).render())
                    .build();
        }
    }

    /** The training-service's job request from the form; a malformed entry is left for the service to name. */
    static Map<String, Object> request(Map<String, String> values) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("baseModel", values.getOrDefault("baseModel", ""));
        String dataset = values.getOrDefault("dataset", "");
        int at = dataset.lastIndexOf('@');
        request.put(
                "dataset",
                at < 0
                        ? Map.of("name", dataset, "version", "")
                        : Map.of("name", dataset.substring(0, at), "version", dataset.substring(at + 1)));
        request.put("method", values.getOrDefault("method", "lora"));
        request.put("objective", values.getOrDefault("objective", "sft"));
        Map<String, Object> hyperparameters = new LinkedHashMap<>();
        for (String name : HYPERPARAMETERS) {
            String value = values.getOrDefault(name, "");
            if (!value.isEmpty()) {
                hyperparameters.put(name, number(value));
            }
        }
        request.put("hyperparameters", hyperparameters);
        return request;
    }

    /**
     * The form field the service's error is about: the problem's {@code field} or its last part
     * ({@code hyperparameters.learning_rate}), else a field the message names, else the form as a whole.
     */
    static String fieldOf(ServiceErrorException e, java.util.Collection<String> fields) {
        String field = e.field() == null ? "" : e.field();
        String last = field.substring(field.lastIndexOf('.') + 1);
        for (String name : fields) {
            if (name.equals(field) || name.equals(last)) {
                return name;
            }
        }
        if (field.startsWith("dataset")) {
            return "dataset";
        }
        for (String name : fields) {
            if (!name.isEmpty() && e.getMessage() != null && e.getMessage().contains(name)) {
                return name;
            }
        }
        return "form";
    }

    /** A number as JSON has it (the service names a value that is not one). */
    private static Object number(String value) {
        try {
            return value.matches("-?\\d+") ? (Object) Long.parseLong(value) : (Object) Double.parseDouble(value);
        } catch (NumberFormatException notANumber) {
            return value;
        }
    }

    private TemplateInstance page(Session session, Map<String, String> values, Map<String, String> errors) {
        return newjob.data("session", session)
                .data("values", values)
                .data("errors", errors)
                .data("hyperparameters", HYPERPARAMETERS)
                .data("methods", METHODS);
    }
}
