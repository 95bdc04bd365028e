"""Local AWS: moto with the CDK template deployed, Lambdas in worker processes, an API Gateway front."""
