"""pyhf's tests that the facade is not measured by, each with its reason.

``INTERNAL``: tests of pyhf's private machinery (a private helper, a mock of an internal
call, a class that only pyhf's implementation has).  They are counted apart.
``DIFFERS``: tests of pyhf's public API where hfx behaves differently on purpose.  They are
still counted as failures; the reason says why hfx keeps its behaviour.
``CONVERGED``: tests whose pinned numbers come from pyhf's loosely converged fits; hfx
gives pyhf's own converged answer instead.  Counted as failures too, and listed apart.
A test id (``file.py::name[params]``) matches a pattern when it starts with it.
"""

from __future__ import annotations

INTERNAL: tuple[tuple[str, str], ...] = (
    (
        "test_interpolate.py",
        "pyhf.interpolators' classes (code0 ... code4p objects, their alphaset caches and "
        "event subscriptions); hfx's interpolation is checked against the same closed forms "
        "by its own tests (tests/likelihood)",
    ),
    (
        "test_optim.py",
        "imports pyhf.optimize.mixins.OptimizerMixin and pyhf.optimize.common's private "
        "helpers at module level; most tests mock the optimizer's internals",
    ),
    ("test_optim_public.py::test_scipy_minimize", "tests SciPy itself (Rosenbrock), not pyhf"),
    (
        "test_optim_public.py::test_optimizer_mixin_extra_kwargs",
        "pyhf.optimize.mixins.OptimizerMixin, a private base class",
    ),
    ("test_optim_public.py::test_get_tensor_shim", "pyhf.optimize.common._get_tensor_shim"),
    ("test_optim_public.py::test_stitch_pars", "pyhf.optimize.common._make_stitch_pars"),
    (
        "test_optim_public.py::test_minimize_do_grad_autoconfig",
        "mocks pyhf.optimize.mixins internals",
    ),
    ("test_optim_public.py::test_minuit_strategy", "spies on minuit_optimizer._minimize"),
    ("test_optim_public.py::test_minuit_failed_optimization", "mocks iminuit inside pyhf"),
    ("test_optim_public.py::test_minuit_set_options", "spies on minuit_optimizer._minimize"),
    ("test_optim_public.py::test_minuit_param_names", "spies on minuit_optimizer._minimize"),
    ("test_optim_public.py::test_init_pars_sync", "mocks the optimizers' _minimize"),
    ("test_optim_public.py::test_solver_options_behavior_scipy", "mocks scipy_optimizer._minimize"),
    ("test_workspace.py::test_join_items", "pyhf.workspace._join_items, a private helper"),
    (
        "test_workspace.py::test_combine_workspace_compatible_parameter_configs_outer_join",
        "pyhf.workspace._join_parameter_configs / _join_measurements, private helpers",
    ),
    (
        "test_workspace.py::test_combine_workspace_measurements_outer_join",
        "pyhf.workspace._join_measurements, a private helper",
    ),
    (
        "test_workspace.py::test_get_measurement_schema_validation",
        "mocks pyhf.schema.validate and counts pyhf's internal calls to it",
    ),
    (
        "test_workspace.py::test_get_workspace_data_bad_model",
        "patches pyhf.mixins._ChannelSummaryMixin, a private class",
    ),
    (
        "test_workspace.py::test_get_measurement_no_measurements_defined",
        "overwrites Workspace.measurement_names, which hfx derives from the spec (read-only)",
    ),
    ("test_pdf.py::test_lumi_np_scaling", "reads Model._modifications, a private method"),
    ("test_modifiers.py::test_staterror_holes", "reads Model._modifications"),
    ("test_modifiers.py::test_shapesys_holes", "reads Model._modifications"),
    (
        "test_modifiers.py::test_issue1720_staterror_builder_mask",
        "builds pyhf's private _ModelConfig and modifier builders directly",
    ),
    (
        "test_pdf.py::test_unexpected_keyword_argument",
        "builds pyhf's private _ModelConfig directly",
    ),
    (
        "test_schema.py::test_schema_changeable",
        "swaps pyhf's process-wide schema folder and cache (pyhf.schema(path), "
        "pyhf.schema.variables); hfx's schemas are fixed",
    ),
    ("test_schema.py::test_schema_callable", "pyhf.schema as a callable module (see above)"),
    (
        "test_schema.py::test_defs_always_cached",
        "reloads pyhf's schema modules and inspects pyhf.schema.variables.SCHEMA_CACHE",
    ),
)

DIFFERS: tuple[tuple[str, str], ...] = (
    (
        "test_optim_public.py::test_minimize[do_grad-",
        "pyhf's NumPy backend cannot give gradients, so pyhf raises Unsupported for "
        "do_grad=True; hfx always fits with the exact gradient and accepts the flag",
    ),
    (
        "test_optim_public.py::test_solver_options_scipy",
        "hfx's SciPy fit is L-BFGS-B with the exact gradient, not SLSQP; SLSQP's "
        "solver_options (ftol) are refused with a clear error rather than ignored",
    ),
    (
        "test_optim_public.py::test_bad_solver_options_scipy",
        "an unknown solver option is an error in hfx (pyhf passes it to SciPy, which warns)",
    ),
    (
        "test_workspace.py::test_combine_workspace_incompatible_observations_right_outer",
        "the test sets an observed count to -10; hfx refuses negative observations "
        "(a Poisson count cannot be negative), pyhf accepts them",
    ),
    (
        "test_workspace.py::test_combine_workspace_incompatible_observations_left_outer",
        "the combined workspace has a channel without observation; hfx warns (HfxWarning, "
        "an error under pyhf's filterwarnings=error), pyhf is silent",
    ),
    (
        "test_pdf.py::test_override_paramset_defaults",
        "inits (99) outside their bounds ([95, 95]): hfx moves them onto the bound with a "
        "warning, so fits start inside the bounds; pyhf keeps 99",
    ),
    (
        "test_pdf.py::test_pdf_clipping",
        "clip_sample_data / clip_bin_data are not supported (ModelError says so), and the "
        "test's observations have fewer bins than their channels, which hfx refuses",
    ),
    (
        "test_schema.py::test_patchset_fail[patchset_bad_invalid_digests.json]",
        "hfx's patchset schema accepts any digest algorithm name (pyhf: md5 and sha256 only)",
    ),
    (
        "test_schema.py::test_patchset_fail[patchset_bad_hepdata_reference.json]",
        "hfx's patchset schema does not constrain the form of a HEPData reference "
        "(pyhf: ins + 7 digits)",
    ),
    (
        "test_infer.py::test_calculator_distributions_without_teststatistic",
        "hfx's AsymptoticCalculator computes its distributions without teststatistic being "
        "called first (pyhf raises RuntimeError), and needs a real model to be built",
    ),
)


CONVERGED: tuple[tuple[str, str], ...] = (
    (
        "test_optim_public.py::test_minimize[no_grad-",
        "pinned [0.4999882, 0.9999697] from pyhf's loose fit; the exact minimum is "
        "[0.5, 1.0] (50 mu + 100 gamma = 125, aux 100 = 100 gamma), which hfx gives",
    ),
    (
        "test_validation.py::test_validation[",
        "pinned CLs from pyhf's loosely converged fit; hfx equals pyhf's converged result "
        "(tests/compat/test_pyhf_converged.py)",
    ),
    (
        "test_infer.py::test_upper_limit",
        "pinned limit 1.0262705 from pyhf's loose fits; pyhf converged and hfx: 1.0262760",
    ),
    (
        "test_infer.py::test_emperical_distribution",
        "same toys as pyhf; pinned statistics from loose fits (hfx = pyhf converged, 1e-11)",
    ),
    (
        "test_infer.py::test_toy_calculator",
        "same toys as pyhf; pinned statistics from loose fits (hfx = pyhf converged, 1e-10)",
    ),
    (
        "test_calculator.py::test_asymptotic_calculator_has_fitted_pars",
        "pinned γ = 1.1513553; the closed form (1 + √13)/4 = 1.1513878 is what hfx gives",
    ),
)


def _match(nodeid: str, table: tuple[tuple[str, str], ...]) -> str | None:
    for pattern, reason in table:
        if nodeid.startswith(pattern):
            return reason
    return None


def reason_for(nodeid: str) -> str | None:
    """Why a test is one of pyhf's internals, or None for a public-API test."""
    return _match(nodeid, INTERNAL)


def differs(nodeid: str) -> str | None:
    """Why hfx differs on purpose from what a public-API test asks, or None."""
    return _match(nodeid, DIFFERS)


def converged(nodeid: str) -> str | None:
    """Why a failing number is pyhf's loose fit rather than hfx's error, or None."""
    return _match(nodeid, CONVERGED)
