"""The IAM proof: every AWS call that a function or state machine makes in the local runs is allowed by its role's
policies in the synthesized template, and every action granted is used (or listed in unused.py with its reason).

The evaluator is our own (evaluator.py): on PyPI, moto's `IAMPolicy` checks only `StringEquals` conditions and turns
an unmet condition of an Allow into a Deny; principalmapper (the evaluator of `pmapper`, AGPL, last release 2022) no
longer imports on Python 3.10+ (`collections.Mapping`), nor does its fork principalmapper-0ca; policyuniverse and
policy_sentry parse and expand policies but evaluate no request; sibyl-aws and aws-why call AWS's simulator.
"""
