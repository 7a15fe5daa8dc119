module kur.dev/images/go/local-path-helper

go 1.26.0
