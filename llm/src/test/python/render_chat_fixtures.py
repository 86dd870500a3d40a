#!/usr/bin/python3
"""Reference renderings for the Java chat-template tests, produced by Python Jinja2.

The Java renderer (dev.finetune.llm.tokenizer.ChatTemplate) runs on Jinjava; these files are what
HuggingFace transformers' apply_chat_template(..., tokenize=False) produces for the same inputs, so
the Java tests compare against an independent implementation. The environment below is the one
transformers builds in utils/chat_template_utils.py (_compile_jinja_template):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loopcontrols extension
and a {% generation %} tag, a tojson filter that is json.dumps(ensure_ascii=False, ...), and the
globals raise_exception and strftime_now. Like apply_chat_template, templates are rendered with
messages, tools=None, documents=None, add_generation_prompt and the tokenizer's special tokens map,
then the caller's extra variables.

Needs only Debian's python3-jinja2 (apt-get install python3-jinja2); no transformers, no pip.
Run from anywhere:  /usr/bin/python3 llm/src/test/python/render_chat_fixtures.py
It rewrites:
  src/test/resources/tokenizers/qwen3/expected/<case>.txt   (cases in tokenizers/qwen3/chat_cases.json)
  src/test/resources/jinja/constructs.expected.json          (cases in jinja/constructs.json)
"""

import datetime
import json
import pathlib
import sys

import jinja2
from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

RESOURCES = pathlib.Path(__file__).resolve().parents[1] / "resources"

# strftime_now reads this instead of the wall clock, so renderings are reproducible.
# The Java tests use the same instant (ChatTemplate.withClock, UTC).
FIXED_NOW = datetime.datetime(2024, 7, 26, 9, 30, 0)

SPECIAL_TOKEN_NAMES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


class GenerationTag(Extension):
    """{% generation %}...{% endgeneration %}: renders its body (transformers uses it to mark assistant text)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render_body"), [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        return caller()


def environment():
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def special_tokens_map(config):
    """transformers' tokenizer.special_tokens_map: the set special tokens as strings (AddedToken -> content)."""

    def text(token):
        return token["content"] if isinstance(token, dict) else token

    out = {}
    for name in SPECIAL_TOKEN_NAMES:
        value = text(config.get(name))
        if value:
            out[name] = value
    extra = [text(t) for t in config.get("additional_special_tokens") or []]
    if extra:
        out["additional_special_tokens"] = extra
    return out


def apply_chat_template(template, special_tokens, messages, add_generation_prompt, variables):
    kwargs = {**special_tokens, **variables}
    tools = kwargs.pop("tools", None)
    documents = kwargs.pop("documents", None)
    return template.render(
        messages=messages, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt, **kwargs
    )


def write_text(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:  # newline="": keep \r and \n exactly
        f.write(text)


def render_model_cases(env, model_dir):
    config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    template = env.from_string(config["chat_template"])
    special = special_tokens_map(config)
    cases = json.loads((model_dir / "chat_cases.json").read_text(encoding="utf-8"))["cases"]
    for case in cases:
        rendered = apply_chat_template(
            template, special, case["messages"], case["add_generation_prompt"], case.get("variables", {})
        )
        write_text(model_dir / "expected" / (case["name"] + ".txt"), rendered)
    print(f"{model_dir.name}: {len(cases)} renderings")


def render_constructs(env, jinja_dir):
    cases = json.loads((jinja_dir / "constructs.json").read_text(encoding="utf-8"))["cases"]
    expected = {}
    for case in cases:
        try:
            expected[case["name"]] = {"output": env.from_string(case["template"]).render(**case["context"])}
        except TemplateError as e:
            if "raise_exception" not in case["template"]:
                sys.exit(f"construct case {case['name']} failed in Python Jinja2: {e}")
            expected[case["name"]] = {"raised": e.message}
    text = json.dumps(
        {"_comment": "Generated by src/test/python/render_chat_fixtures.py with Jinja2 " + jinja2.__version__,
         "expected": expected},
        indent=1, ensure_ascii=False)
    write_text(jinja_dir / "constructs.expected.json", text + "\n")
    print(f"constructs: {len(cases)} renderings")


def main():
    env = environment()
    render_model_cases(env, RESOURCES / "tokenizers" / "qwen3")
    render_constructs(env, RESOURCES / "jinja")


if __name__ == "__main__":
    main()
