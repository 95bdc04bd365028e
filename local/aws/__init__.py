"""Local AWS: moto with the CDK template deployed, Lambdas in worker processes, an API Gateway front.

Importing the package checks that the installed moto is the pinned one (`moto_pin`): the shims patch its internals.
"""

from local.aws.moto_pin import check_version

check_version()
