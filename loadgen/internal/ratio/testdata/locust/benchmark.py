from locust import HttpUser, task, constant_pacing


class ApiUser(HttpUser):
    wait_time = constant_pacing(1)
    input_data = [5.1, 3.5, 1.4, 0.2]

    # @task
    def health_check(self):
        self.client.get("/api/v1/healthcheck")

    # @task
    def endpoint404(self):
        with self.client.get("/does-not-exist", catch_response=True) as response:
            if response.status_code == 404:
                response.success()


class ApiAsyncUser(ApiUser):
    url = "/api/v1/ml/async/predict"

    @task
    def predict(self):
        self.client.post(self.url, json=self.input_data)


class ApiSyncUser(ApiUser):
    url = "/api/v1/ml/sync/predict"

    @task
    def predict(self):
        self.client.post(self.url, json=self.input_data)
