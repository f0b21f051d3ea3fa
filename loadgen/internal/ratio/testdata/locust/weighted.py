from locust import HttpUser, task, tag, constant, between


class Reader(HttpUser):
    weight = 3
    wait_time = constant(1)

    @tag("read")
    @task(3)
    def browse(self):
        self.client.get("/browse")

    @tag("read", "slow")
    @task(2)
    def search(self):
        self.client.get("/search")

    @task
    def home(self):
        self.client.get("/")


class Writer(HttpUser):
    weight = 1
    wait_time = between(1, 2)

    @tag("write")
    @task(5)
    def post(self):
        self.client.post("/post")

    @tag("slow")
    @task(2)
    def upload(self):
        self.client.post("/upload")


class Idle(HttpUser):
    weight = 2
    wait_time = constant(1)

    @task
    def ping(self):
        self.client.get("/ping")
